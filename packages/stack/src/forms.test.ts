/**
 * HAND-WRITTEN edge cases of the recogniser (the real texts are in real-text.test.ts): CR line
 * ends, bcc's `--` user part and its end, `[kernel]` vs a loadable `[mod]`, folded `-` and `_[k]`
 * frames, zero addresses, decimal and hex offsets, and lines that look close but hold no frame.
 */
import { describe, expect, it } from 'vitest';
import { findStackRefs, type LineState, type StackRef } from './forms.js';

function refs(lines: string[], st: LineState = { user: false }) {
  type Found = { line: number; name: string | null; offset: number | null; size: number | null; address: string | null; module: string | null };
  const all: (Found & { at: number; text: string })[] = [];
  lines.forEach((l, i) => {
    const out: StackRef[] = [];
    findStackRefs(l, st, out);
    for (const r of out) all.push({ line: i + 1, ...r.printed, module: r.printed.module ?? null, at: r.at });
  });
  return all;
}
const one = (l: string) => refs([l]);

describe('forms (hand-written)', () => {
  it('bpftrace kstack: decimal offset, CRLF kept out of the frame', () => {
    expect(one('        tcp_transmit_skb+1308\r')).toEqual([{
      line: 1, text: 'tcp_transmit_skb+1308', name: 'tcp_transmit_skb', offset: 1308, size: null, address: null, module: null, at: 24,
    }]);
  });
  it('bpftrace kstack(perf): the address is the printed one', () => {
    const [r] = one('\tffffffff8160babb find_vma+59');
    expect(r).toMatchObject({ name: 'find_vma', offset: 59, address: '0xffffffff8160babb', at: 26 });
  });
  it('bcc: [kernel] names no module, [kvm] does; hex offset', () => {
    expect(one('        do_sys_open+0x1 [kernel]')[0]).toMatchObject({ name: 'do_sys_open', offset: 1, module: null, text: 'do_sys_open+0x1 [kernel]' });
    expect(one('        start_sw_timer+0x173 [kvm]')[0]).toMatchObject({ name: 'start_sw_timer', offset: 0x173, module: 'kvm' });
  });
  it('bcc multi-line: frames after "--" are user space until the "-  comm (pid)" line; a blank line resets', () => {
    const r = refs([
      '    finish_task_switch', '    --', '    main', '    -                dd (25036)', '        4', '',
      '    schedule', '    --', '    read', '', '    vfs_read',
      // stackcount -d -v -P: user frames with offsets and addresses, then `    comm [pid]`
      '  vfs_read', '    --', '  00007f1c2a3b4c5d read+0x10', '  __libc_start_main+0xf5', '    bash [1234]', '    3', '',
    ]);
    expect(r.map((x) => [x.line, x.name])).toEqual([[1, 'finish_task_switch'], [7, 'schedule'], [11, 'vfs_read'], [12, 'vfs_read']]);
    expect(one('    bash [1234]')).toEqual([]);
  });
  it('folded: frames after "-" and frames marked _[k] are kernel frames; the notation goes before _[k]', () => {
    expect(refs(['dd;read;-;entry_SYSCALL_64;vfs_read 1']).map((x) => [x.name, x.at])).toEqual([['entry_SYSCALL_64', 26], ['vfs_read', 35]]);
    expect(refs(['dd;[unknown];read;-;sys_read_[k];vfs_read_[k] 12']).map((x) => [x.name, x.at, x.text])).toEqual([
      ['sys_read', 28, 'sys_read_[k]'], ['vfs_read', 41, 'vfs_read_[k]'],
    ]);
    expect(refs(['dd;read;write 3'])).toEqual([]); // no marker: user and kernel frames cannot be told apart
    expect(refs(['dd;-;vfs_read 1\r'])).toHaveLength(1);
  });
  it('/proc/PID/stack: the zero address is carried as printed (core never looks it up), size read', () => {
    expect(one('[<0>] proc_pid_stack+0xb1/0x150')[0]).toMatchObject({ name: 'proc_pid_stack', offset: 0xb1, size: 0x150, address: '0x0', at: 20 });
  });
  it('crash bt: frame, +offset, (via x), [mod], bt -t stack words, START:, exception RIP (decimal or hex)', () => {
    expect(one('    #3 [c74dff1c] crash_init at cb297076 [crash]')[0])
      .toMatchObject({ name: 'crash_init', address: '0xcb297076', module: 'crash', text: 'crash_init at cb297076 [crash]' });
    expect(one(' #0 [ffff8800664a1c90] machine_kexec+0x167 at ffffffff810327b7')[0]).toMatchObject({ name: 'machine_kexec', offset: 0x167 });
    expect(one('     #3 [f2815e24] stext_lock (via drain_cpu_caches) at c025fa55')[0]).toMatchObject({ name: 'stext_lock', address: '0xc025fa55' });
    expect(one('      [c1aa1f78] svc_recv at cb22c4d8 [sunrpc]')[0]).toMatchObject({ name: 'svc_recv', module: 'sunrpc' });
    expect(one('          START: schedule at c01190e0')[0]).toMatchObject({ name: 'schedule', address: '0xc01190e0' });
    expect(one('        [exception RIP: kmem_cache_alloc+120]')[0]).toMatchObject({ name: 'kmem_cache_alloc', offset: 120, address: null });
    expect(one('        [exception RIP: native_safe_halt+0xb]')[0]).toMatchObject({ name: 'native_safe_halt', offset: 0xb });
  });
  it('drgn: name with source position, name+off/size, "at 0x.. (name+off/size) in .."', () => {
    expect(one('    #4  kyber_bio_merge (../block/kyber-iosched.c:573:2)')[0]).toMatchObject({ name: 'kyber_bio_merge', offset: null });
    expect(one('    #30 ret_from_fork+0x1f/0x2a (../arch/x86/entry/entry_64.S:294)')[0]).toMatchObject({ name: 'ret_from_fork', offset: 0x1f, size: 0x2a });
    expect(one('#5 at 0xffffffff8a5a32d0 (do_sys_poll+0x400/0x578) in do_poll at ./fs/select.c:961:8 (inlined)')[0])
      .toMatchObject({ name: 'do_sys_poll', offset: 0x400, size: 0x578, address: '0xffffffff8a5a32d0' });
  });
  it('perf report --stdio: [k] symbols only', () => {
    expect(one('     1.49%  [kernel.kallsyms]                    [k] exc_page_fault').map((x) => x.name)).toEqual(['exc_page_fault']);
    expect(one('     5.47%  lzma.node              [.] lzma_rs::decode')).toEqual([]);
    expect(one('     0.01%  [kernel.kallsyms]  [k] 0xffffffff81000000')).toEqual([]);
  });
  it('near misses: prose (a word of bcc trace_example.txt\'s help), counts, [unknown], bare words off bcc\'s indents, more text', () => {
    const lines = [
      'This is a CPU profiler.', '                        resolution', '\tvfs_read', '   vfs_read', '    ffffffffb4019501', '        1',
      '    [unknown]', 'vfs_read', '    vfs_read is a function', '    vfs_read+', '    -', '  Lsun/nio/ch/SelectorImpl;::select', '# ./profile -f',
    ];
    for (const l of lines) {
      expect(one(l), l).toEqual([]);
    }
  });
});
