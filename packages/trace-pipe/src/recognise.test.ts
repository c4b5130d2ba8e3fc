/**
 * Every ftrace form, annotated with the real 6.12 kernel's table (fixtures/kernel-6.12, boot-kaslr). Lines marked
 * REAL are copied from the captures in the fixtures/kernel-6.12 boot directories (trace files); lines marked HAND-WRITTEN follow the
 * kernel's (or trace-cmd's) format strings for forms no capture here contains, with this
 * kernel's real symbols, addresses and sizes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { AnnotatorOptions, RefJson, SymbolTable } from '@kallmod/core';
import { createAnnotator, createRecogniser } from './annotator.js';
import { kernelTable } from './kernel.test-util.js';

let table: SymbolTable;
function ann(text: string, objname: AnnotatorOptions['objname'] = 'always'): string {
  const a = createAnnotator(table, { objname, refs: false });
  return a.chunk(Buffer.from(text, 'latin1'), 1).toString('latin1');
}
function refs(text: string): RefJson[] {
  const a = createAnnotator(table, { objname: 'ambiguous', refs: true });
  const out = a.chunk(Buffer.from(text, 'latin1'), 1).toString('utf8').trim();
  return out ? out.split('\n').map((l) => JSON.parse(l) as RefJson) : [];
}

describe('trace forms (real kernel table, boot-kaslr)', () => {
  beforeAll(() => { table = kernelTable('kaslr'); }, 120_000);

  describe('headers and process names', () => {
    it('REAL: headers, comments and event lines without symbols pass unchanged; [dd] is a comm', () => {
      const t = [
        '# tracer: nop',
        '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
        '              dd-876     [000] .....     5.678475: block_rq_issue: 251,0 RA 16384 () 0 + 32 be,0,4 [dd]',
        '          insmod-880     [000] .....     5.733028: module_load: dummy ',
        '            true-881     [000] .....     5.737703: <stack trace>',
        '        Depth    Size   Location    (19 entries)',
        '        -----    ----   --------',
        '',
      ].join('\n');
      expect(ann(t)).toBe(t);
      expect(refs(t)).toEqual([]);
    });
  });

  describe('function tracer', () => {
    it('REAL: trace_pipe, print-parent, both symbols, loadable module from the table', () => {
      expect(ann('           <...>-890     [000] .....     6.266989: null_queue_rq <-null_queue_rqs\n'))
        .toBe('           <...>-890     [000] .....     6.266989: null_queue_rq [null_blk] {null_blk/main.o} <-null_queue_rqs [null_blk] {null_blk/main.o}\n');
      expect(ann('    kworker/u8:5-64      [000] b....     6.275899: dummy_xmit <-dev_hard_start_xmit\n', 'ambiguous'))
        .toBe('    kworker/u8:5-64      [000] b....     6.275899: dummy_xmit [dummy] <-dev_hard_start_xmit\n');
    });

    it('REAL: sym-offset, printed [mod] narrows and is not repeated', () => {
      expect(ann('              dd-896     [001] .....     9.454482: vfs_read+0x4/0x370 <-ksys_read+0x6f/0xf0\n'))
        .toBe('              dd-896     [001] .....     9.454482: vfs_read+0x4/0x370 {read_write.o} <-ksys_read+0x6f/0xf0 {read_write.o}\n');
      const l = '              dd-896     [001] .....     9.454672: null_queue_rq+0x4/0x320 [null_blk] <-null_queue_rqs+0x5d/0xf0 [null_blk]\n';
      expect(ann(l, 'ambiguous')).toBe(l);
      const r = refs(l);
      expect(r.map((x) => [x.text, x.name, x.offset, x.size, x.modules])).toEqual([
        ['null_queue_rq+0x4/0x320 [null_blk]', 'null_queue_rq', 4, 0x320, ['null_blk']],
        ['null_queue_rqs+0x5d/0xf0 [null_blk]', 'null_queue_rqs', 0x5d, 0xf0, ['null_blk']],
      ]);
    });

    it('HAND-WRITTEN: sym-addr (address decides), print-parent off, irq-info off, record-tgid', () => {
      const a = ann('              dd-896     [001] .....     9.454482: vfs_read+0x4/0x370 <ffffffffb30da8e4> <-ksys_read+0x6f/0xf0 <ffffffffb30db67f>\n');
      expect(a).toBe('              dd-896     [001] .....     9.454482: vfs_read+0x4/0x370 {read_write.o} <ffffffffb30da8e4> ' +
        '<-ksys_read+0x6f/0xf0 {read_write.o} <ffffffffb30db67f>\n');
      const r = refs('              dd-896     [001] .....     9.454482: vfs_read <ffffffffb30da8e4> <-ksys_read <ffffffffb30db67f>\n');
      expect(r.map((x) => [x.address, x.symbolAddress, x.resolvedBy.split(';')[0]])).toEqual([
        ['0xffffffffb30da8e4', '0xffffffffb30da8e0', 'address'], ['0xffffffffb30db67f', '0xffffffffb30db610', 'address'],
      ]);
      expect(ann('              dd-896     [001] .....     9.454482: vfs_read\n'))
        .toBe('              dd-896     [001] .....     9.454482: vfs_read {read_write.o}\n');
      expect(ann('              dd-896     [001]     9.454482: vfs_read <-ksys_read\n'))
        .toBe('              dd-896     [001]     9.454482: vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
      expect(ann('              dd-896     (    896) [001] .....     9.454482: vfs_read <-ksys_read\n'))
        .toBe('              dd-896     (    896) [001] .....     9.454482: vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
      expect(ann('           <...>-896     (-------) [001] .....     9.454482: vfs_read <-ksys_read\n'))
        .toBe('           <...>-896     (-------) [001] .....     9.454482: vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
    });

    it('HAND-WRITTEN: latency format, verbose, trace-cmd report, context-info off', () => {
      expect(ann('      dd-896       1d..1.    3us+: vfs_read <-ksys_read\n'))
        .toBe('      dd-896       1d..1.    3us+: vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
      expect(ann('      dd-896       1....    0us : vfs_read <-ksys_read\n'))
        .toBe('      dd-896       1....    0us : vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
      expect(ann('      dd-896 [001] 9454.482000: function:             vfs_read <-- ksys_read\n'))
        .toBe('      dd-896 [001] 9454.482000: function:             vfs_read {read_write.o} <-- ksys_read {read_write.o}\n');
      expect(ann('vfs_read <-ksys_read\n')).toBe('vfs_read {read_write.o} <-ksys_read {read_write.o}\n');
      // a lone word without an entry prefix is not a function line
      expect(ann('vfs_read\n')).toBe('vfs_read\n');
    });
  });

  describe('duplicated names', () => {
    it('HAND-WRITTEN: a bare duplicated name is marked ambiguous, never guessed', () => {
      const l = '          ethtool-99      [000] .....    10.000000: __e1000_shutdown <-pci_pm_suspend\n';
      expect(ann(l, 'ambiguous'))
        .toBe('          ethtool-99      [000] .....    10.000000: __e1000_shutdown {?[e1000]e1000_main.o|[e1000e]netdev.o} <-pci_pm_suspend\n');
      const r = refs(l);
      expect(r[0]!.ambiguous).toBe(true);
      expect(r[0]!.candidates.map((c) => c.modules)).toEqual([['e1000'], ['e1000e']]);
    });

    it('HAND-WRITTEN: the printed size picks one; the address decides', () => {
      const r = refs('          ethtool-99      [000] .....    10.000000: __e1000_shutdown+0x4/0x240 <-pci_pm_suspend+0x10/0x170\n');
      expect([r[0]!.ambiguous, r[0]!.modules, r[0]!.resolvedBy.split(';')[0]]).toEqual([false, ['e1000'], 'name+size']);
      const r2 = refs(' => __e1000_shutdown+0x30/0xa10 <ffffffffb368a8e0>\n');
      expect([r2[0]!.ambiguous, r2[0]!.modules, r2[0]!.symbolAddress]).toEqual([false, ['e1000e'], '0xffffffffb368a8b0']);
    });

    it('HAND-WRITTEN: the caller in <-parent picks the candidate of its module, and says so', () => {
      const r = refs('          ethtool-99      [000] .....    10.000000: __e1000_shutdown <-e1000e_pm_suspend\n');
      expect([r[0]!.ambiguous, r[0]!.modules, r[0]!.symbolAddress]).toEqual([false, ['e1000e'], '0xffffffffb368a8b0']);
      expect(r[0]!.resolvedBy).toMatch(/^name\+evidence:parent-module;/);
      const r2 = refs('          ethtool-99      [000] .....    10.000000: __e1000_shutdown <-e1000_suspend\n');
      expect([r2[0]!.modules, r2[0]!.resolvedBy.split(';')[0]]).toEqual([['e1000'], 'name+evidence:parent-module']);
    });

    it('HAND-WRITTEN: core-kernel or ambiguous evidence does not pick', () => {
      const r = refs('          ethtool-99      [000] .....    10.000000: __e1000_shutdown <-pci_pm_suspend\n');
      expect(r[0]!.ambiguous).toBe(true);
      const r2 = refs('          ethtool-99      [000] .....    10.000000: __e1000_shutdown <-e1000_shutdown\n');
      expect(r2[1]!.ambiguous).toBe(true);
      expect(r2[0]!.ambiguous).toBe(true);
    });

    it('HAND-WRITTEN: the enclosing function_graph frame picks, per CPU and depth', () => {
      const t = [
        ' 1)               |  e1000e_pm_suspend() {',
        ' 0)               |  pci_pm_suspend() {',
        ' 1)               |    __e1000_shutdown() {',
        ' 0)   0.300 us    |    __e1000_shutdown();',
        ' 1)   1.000 us    |    } /* __e1000_shutdown */',
        ' 1)   2.000 us    |  }',
        ' 1)   0.300 us    |  __e1000_shutdown();',
        '',
      ].join('\n');
      const r = refs(t);
      expect(r.map((x) => [x.line, x.ambiguous, x.modules, x.resolvedBy.split(';')[0]])).toEqual([
        [1, false, ['e1000e'], 'name'],
        [2, false, [], 'name'],
        [3, false, ['e1000e'], 'name+evidence:graph-parent-module'],
        [4, true, [], 'name: 2 candidates'],
        [5, false, ['e1000e'], 'name+evidence:graph-parent-module'],
        [7, true, [], 'name: 2 candidates'],
      ]);
    });

    it('HAND-WRITTEN: an interrupt handler is not called by the interrupted frame', () => {
      const t = [
        ' 1)               |  e1000e_pm_suspend() {',
        ' 1)   ==========> |',
        ' 1)   0.300 us    |    __e1000_shutdown();',
        ' 1)   <========== |',
        ' 1)   0.300 us    |    __e1000_shutdown();',
        ' ------------------------------------------',
        ' 1)    dd-1    =>    sh-2   ',
        ' ------------------------------------------',
        ' 1)   0.300 us    |    __e1000_shutdown();',
        '',
      ].join('\n');
      expect(refs(t).map((x) => [x.line, x.ambiguous])).toEqual([[1, false], [3, true], [5, false], [9, true]]);
    });
  });

  describe('function_graph', () => {
    it('REAL: entries, leaves, closing braces, module frames', () => {
      expect(ann(' 0)               |  null_queue_rq [null_blk]() {\n')).toBe(' 0)               |  null_queue_rq [null_blk] {null_blk/main.o}() {\n');
      expect(ann(' 0)   3.875 us    |      blk_add_timer();\n')).toBe(' 0)   3.875 us    |      blk_add_timer {blk-timeout.o}();\n');
      expect(ann(' 0) # 1141.593 us |        __blkdev_direct_IO_simple();\n', 'ambiguous')).toBe(' 0) # 1141.593 us |        __blkdev_direct_IO_simple();\n');
      expect(ann(' 0) + 14.091 us   |    }\n')).toBe(' 0) + 14.091 us   |    }\n');
      expect(refs(' 0) + 12.999 us   |        filemap_write_and_wait_range.part.0();\n')[0]!.objname).toBe('mm/filemap.o');
    });

    it('HAND-WRITTEN: funcgraph-tail, -retval, -retaddr, -proc, -abstime, args, comments', () => {
      expect(ann(' 0) ! 151.348 us  |      } /* security_file_permission */\n'))
        .toBe(' 0) ! 151.348 us  |      } /* security_file_permission {security.o} */\n');
      expect(ann(' 0)   0.861 us    |      I_BDEV(); /* = 0xffff888003a2c000 */\n'))
        .toBe(' 0)   0.861 us    |      I_BDEV {bdev.o}(); /* = 0xffff888003a2c000 */\n');
      expect(ann(' 0) ! 151.348 us  |      } /* security_file_permission = 0x0 */\n'))
        .toBe(' 0) ! 151.348 us  |      } /* security_file_permission {security.o} = 0x0 */\n');
      expect(ann(' 0)               |  vfs_read() { /* <-ksys_read+0x6f/0xf0 */\n'))
        .toBe(' 0)               |  vfs_read {read_write.o}() { /* <-ksys_read+0x6f/0xf0 {read_write.o} */\n');
      expect(ann('    9.454482 |   0)    dd-896    |               |  vfs_read() {\n'))
        .toBe('    9.454482 |   0)    dd-896    |               |  vfs_read {read_write.o}() {\n');
      expect(ann(' 0)    dd-896    |  d..1. |   0.861 us    |      I_BDEV();\n')).toBe(' 0)    dd-896    |  d..1. |   0.861 us    |      I_BDEV {bdev.o}();\n');
      expect(ann(' 0)               |  vfs_read(file=0xffff888003a2c000, count=4096) {\n'))
        .toBe(' 0)               |  vfs_read {read_write.o}(file=0xffff888003a2c000, count=4096) {\n');
      expect(ann(' 0)               |  /* block_rq_issue: 251,0 RA 16384 () 0 + 32 be,0,4 [dd] */\n'))
        .toBe(' 0)               |  /* block_rq_issue: 251,0 RA 16384 () 0 + 32 be,0,4 [dd] */\n');
      expect(ann(' 0)               |  /* kp_vfs_read: (vfs_read+0x4/0x370) */\n'))
        .toBe(' 0)               |  /* kp_vfs_read: (vfs_read+0x4/0x370 {read_write.o}) */\n');
    });
  });

  describe('stack traces', () => {
    it('REAL: name only, +off/size, [mod], sym-addr', () => {
      expect(ann(' => vfs_read\n')).toBe(' => vfs_read {read_write.o}\n');
      expect(ann(' => null_queue_rq+0x5/0x320 [null_blk]\n')).toBe(' => null_queue_rq+0x5/0x320 [null_blk] {null_blk/main.o}\n');
      expect(ann(' => null_queue_rq+0x17b/0x320 [null_blk] <ffffffffc02c2a4b>\n'))
        .toBe(' => null_queue_rq+0x17b/0x320 [null_blk] {null_blk/main.o} <ffffffffc02c2a4b>\n');
      expect(ann(' => do_execveat_common.isra.0+0x17f/0x1e0 <ffffffffb30e67cf>\n'))
        .toBe(' => do_execveat_common.isra.0+0x17f/0x1e0 {exec.o} <ffffffffb30e67cf>\n');
    });

    it('REAL: the stack tracer table', () => {
      expect(ann('  0)     2528      48   _raw_spin_trylock+0x9/0x50\n')).toBe('  0)     2528      48   _raw_spin_trylock+0x9/0x50 {spinlock.o}\n');
      expect(ann(' 18)      176     176   entry_SYSCALL_64_after_hwframe+0x77/0x7f\n'))
        .toBe(' 18)      176     176   entry_SYSCALL_64_after_hwframe+0x77/0x7f {entry_64.o}\n');
    });

    it('HAND-WRITTEN: trace-cmd "=> func (addr)", bare addresses, user frames untouched', () => {
      expect(ann('=> vfs_read (ffffffffb30dab25)\n')).toBe('=> vfs_read {read_write.o} (ffffffffb30dab25)\n');
      const r = refs('=> ffffffffb30dab25\n => 0xffffffffb30db67f\n');
      expect(r.map((x) => [x.name, x.address, x.symbolAddress]))
        .toEqual([[null, '0xffffffffb30dab25', '0xffffffffb30da8e0'], [null, '0xffffffffb30db67f', '0xffffffffb30db610']]);
      expect(ann('=> ffffffffb30dab25\n')).toBe('=> ffffffffb30dab25 {read_write.o}\n');
      const user = ' => <00007f3c1a2b4c5d>\n => ??\n';
      expect(ann(user)).toBe(user);
    });
  });

  describe('events and trace_printk', () => {
    it('REAL: kprobe and module kprobe (%pS with [mod])', () => {
      expect(ann('              dd-885     [000] .....     5.814099: kp_vfs_read: (vfs_read+0x4/0x370)\n'))
        .toBe('              dd-885     [000] .....     5.814099: kp_vfs_read: (vfs_read+0x4/0x370 {read_write.o})\n');
      expect(ann('              dd-885     [000] .....     5.814851: kp_nullq: (null_queue_rq+0x4/0x320 [null_blk])\n'))
        .toBe('              dd-885     [000] .....     5.814851: kp_nullq: (null_queue_rq+0x4/0x320 [null_blk] {null_blk/main.o})\n');
    });

    it('HAND-WRITTEN: kretprobe, call_site=, function=, workqueue, (func+0x0/0x..), trace_printk', () => {
      const kret = '              dd-885     [000] .....     5.815028: kp_ext4_ret: (vfs_read+0x245/0x370 <- ext4_file_read_iter) arg1=0x1000\n';
      expect(ann(kret)).toBe('              dd-885     [000] .....     5.815028: kp_ext4_ret: (vfs_read+0x245/0x370 {read_write.o} <- ' +
        'ext4_file_read_iter [ext4] {ext4/file.o}) arg1=0x1000\n');
      expect(ann('              dd-885     [000] .....     5.815028: kfree: call_site=kmem_cache_free+0x0/0x10 ptr=00000000d1b2c3a4\n', 'ambiguous'))
        .toBe('              dd-885     [000] .....     5.815028: kfree: call_site=kmem_cache_free+0x0/0x10 ptr=00000000d1b2c3a4\n');
      const timer = '          <idle>-0       [001] ..s1.    12.000000: timer_expire_entry: timer=00000000a1b2c3d4 function=process_timeout ' +
        'now=4294892345 baseclk=4294892345\n';
      expect(ann(timer)).toBe(timer.replace('function=process_timeout', 'function=process_timeout {time/timer.o}'));
      const wq = '     kworker/0:1-10      [000] .....    12.000000: workqueue_execute_start: work struct 00000000a1b2c3d4: function vmstat_update\n';
      expect(ann(wq)).toBe(wq.replace('function vmstat_update', 'function vmstat_update {vmstat.o}'));
      const cpuhp = '         cpuhp/1-20      [001] .....     0.500000: cpuhp_enter: cpu: 0001 target: 142 step:  89 (vfs_read+0x0/0x370)\n';
      expect(ann(cpuhp)).toBe(cpuhp.replace('(vfs_read+0x0/0x370)', '(vfs_read+0x0/0x370 {read_write.o})'));
      // trace_printk: the ip (sym-offset or a function name that is no tracepoint), then %pS in the text
      expect(ann('              dd-885     [000] .....     5.815028: vfs_read: called from ksys_read+0x6f/0xf0\n'))
        .toBe('              dd-885     [000] .....     5.815028: vfs_read {read_write.o}: called from ksys_read+0x6f/0xf0 {read_write.o}\n');
      expect(ann('              dd-885     [000] .....     5.815028: vfs_read+0x2c/0x370: hello\n'))
        .toBe('              dd-885     [000] .....     5.815028: vfs_read+0x2c/0x370 {read_write.o}: hello\n');
      // an event whose name is also a function (kfree) is an event: its tracepoint exists
      expect(refs('              dd-885     [000] .....     5.815028: kfree: call_site=0xffffffffb30a97c0 ptr=0\n').map((x) => x.name)).toEqual([null]);
    });
  });
});

describe('which printed addresses are return addresses (Hit.returnAddress, for --lines)', () => {
  beforeAll(() => { table = kernelTable('kaslr'); }, 120_000);
  const flags = (line: string) => (createRecogniser(table).line(line)?.hits ?? []).map((h) => [h.name, h.returnAddress === true]);
  it('REAL: stack frames, a function tracer\'s parent, the stack tracer\'s rows; not a traced function or a kprobe\'s probe point', () => {
    expect(flags(' => null_queue_rqs+0x5d/0xf0 [null_blk]')).toEqual([['null_queue_rqs', true]]);
    expect(flags('              dd-898     [000] .....     8.700179: vfs_read+0x4/0x370 <-ksys_read+0x6f/0xf0'))
      .toEqual([['vfs_read', false], ['ksys_read', true]]);
    expect(flags('  1)     2480     264   get_page_from_freelist+0x3ec/0x12f0')).toEqual([['get_page_from_freelist', true]]);
    expect(flags('              dd-885     [000] .....     5.814851: kp_nullq: (null_queue_rq+0x4/0x320 [null_blk])')).toEqual([['null_queue_rq', false]]);
    expect(flags(' 0)               |  vfs_read() {')).toEqual([['vfs_read', false]]);
  });
  it('HAND-WRITTEN: a kprobe by its default name, a kretprobe, trace-cmd\'s parent, funcgraph-retaddr, trace_printk, a field', () => {
    expect(flags('              dd-885     [000] .....     5.814099: p_vfs_read_0: (vfs_read+0x4/0x370)')).toEqual([['vfs_read', false]]);
    expect(flags('              dd-885     [000] .....     5.814099: r_vfs_read_0: (ksys_read+0x6f/0xf0 <- vfs_read)'))
      .toEqual([['ksys_read', true], ['vfs_read', false]]);
    expect(flags('          <idle>-0     [000]   5.1: function:             vfs_read <-- ksys_read')).toEqual([['vfs_read', false], ['ksys_read', true]]);
    expect(flags(' 0)               |  vfs_read() { /* <-ksys_read+0x6f/0xf0 */')).toEqual([['vfs_read', false], ['ksys_read', true]]);
    expect(flags('              dd-885     [000] .....     5.814099: vfs_read+0x1c/0x370: hello')).toEqual([['vfs_read', false]]);
    expect(flags('              dd-885     [000] .....     5.814099: timer_start: timer=000000001 function=vfs_read expires=1')).toEqual([['vfs_read', false]]);
  });
});
