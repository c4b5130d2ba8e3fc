/**
 * HAND-WRITTEN edge cases: forms that the real logs in fixtures/kernel-6.12 do not contain
 * (syslog/journalctl prefixes, dmesg -x/-T, caller ids, /dev/kmsg records, arm64/arm frames,
 * old x86 and 2.6-era module forms, Workqueue, inline frames, KASAN/lockdep headers). Symbol
 * names are real symbols of the shared 6.12 kernel so that resolution is checked against it.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { sourceOptions } from '../../../test/kernel-fixture.js';
import { loadTable, keyToHex, type SymbolTable } from '@kallmod/core';
import { messageStart, messageEnd } from './prefix.js';
import { createAnnotator, findRefs, resolveRef } from './annotator.js';

describe('prefixes (hand-written)', () => {
  const cases: [string, string][] = [
    ['[   18.315897]  lkdtm_do_action+0x18/0x30', ' lkdtm_do_action+0x18/0x30'],
    ['<4>[   18.315897]  x', ' x'],
    ['kern  :warn  : [   18.315897]  x', ' x'],
    ['[Wed Nov 25 17:01:02 2026]  x', ' x'],
    ['[   18.315897][  T910]  x', ' x'],
    ['[   18.315897] [    C1]  x', ' x'],
    ['[   18.315897] [T910]  x', ' x'],
    ['Nov 25 17:01:02 vm kernel:  x', ' x'],
    ['2026-11-25T17:01:02+0000 vm kernel:  x', ' x'],
    ['2026-11-25T17:01:02.123456+00:00 vm kernel:  x', ' x'],
    ['[   18.316154] vm kernel:  x', ' x'],
    ['2026-11-25T17:01:02,123456+00:00  x', ' x'],
    ['4,1234,18315897,-,caller=T910; x', ' x'],
    ['\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux', 'Linux'],
    ['[  1.000000 <  0.000100>]  x', ' x'],
    ['plain message', 'plain message'],
  ];
  for (const [line, msg] of cases) {
    it(JSON.stringify(line), () => { expect(line.slice(messageStart(line))).toBe(msg); });
  }
  it('\\r is not part of the message', () => { expect(messageEnd('[ 1.0] x\r')).toBe(8); });
});

describe('recognition (hand-written)', () => {
  const refs = (l: string) => findRefs(l)
    .map((f) => ({ name: f.printed.name, module: f.printed.module ?? null, address: f.printed.address, text: f.printed.text }));
  it('x86 frames, unreliable, module, build id', () => {
    expect(refs(' ? vfs_write+0xf8/0x450')).toEqual([{ name: 'vfs_write', module: null, address: null, text: 'vfs_write+0xf8/0x450' }]);
    expect(refs(' null_queue_rq+0x5/0x320 [null_blk]')[0])
      .toMatchObject({ name: 'null_queue_rq', module: 'null_blk', text: 'null_queue_rq+0x5/0x320 [null_blk]' });
    expect(refs(' null_queue_rq+0x5/0x320 [null_blk 0123456789abcdef0123456789abcdef01234567]')[0]).toMatchObject({ module: 'null_blk' });
  });
  it('old forms: [<addr>], :mod:', () => {
    expect(refs(' [<ffffffff81234567>] ? vfs_write+0xf8/0x450')[0]).toMatchObject({ address: '0xffffffff81234567', name: 'vfs_write' });
    expect(refs(' [<f8a1b2c3>] :jbd:journal_commit_transaction+0xa3/0xf5')[0])
      .toMatchObject({ module: 'jbd', name: 'journal_commit_transaction', text: ':jbd:journal_commit_transaction+0xa3/0xf5' });
    expect(refs('RIP: 0010:[<ffffffff81234567>]  [<ffffffff81234567>] vfs_write+0xf8/0x450')[0]).toMatchObject({ address: '0xffffffff81234567' });
  });
  it('RIP: 0010 yes, RIP: 0033 never; Code:, Modules linked in:, registers untouched', () => {
    expect(refs('RIP: 0010:lkdtm_BUG+0xa/0x10')).toHaveLength(1);
    expect(refs('RIP: 0033:0x47b7a0')).toHaveLength(0);
    expect(refs('RIP: 0033:foo+0x1/0x10')).toHaveLength(0);
    expect(refs('Code: 0f 0b <0f> foo+0x1/0x10')).toHaveLength(0);
    expect(refs('Modules linked in: a b c+0x1/0x2')).toHaveLength(0);
    expect(refs('RAX: ffffffff8179fb00 RBX: ffff888006981000 RCX: 00000000ffffdfff')).toHaveLength(0);
  });
  it('arm64 pc/lr, Call trace frames with (P)', () => {
    expect(refs('pc : lkdtm_BUG+0xa/0x10')[0]).toMatchObject({ name: 'lkdtm_BUG' });
    expect(refs('lr : lkdtm_do_action+0x18/0x30 [lkdtm]')[0]).toMatchObject({ name: 'lkdtm_do_action', module: 'lkdtm' });
    expect(refs(' lkdtm_BUG+0xa/0x10 (P)')[0]).toMatchObject({ name: 'lkdtm_BUG' });
  });
  it('arm: (func) from [<..>] (caller), func from caller', () => {
    const r = refs('[<c0123456>] (lkdtm_do_action) from [<c0654321>] (direct_entry+0x8d/0xe0)');
    expect(r.map((x) => [x.name, x.address])).toEqual([['lkdtm_do_action', '0xc0123456'], ['direct_entry', '0xc0654321']]);
    expect(refs(' lkdtm_do_action from direct_entry+0x8d/0xe0').map((x) => x.name)).toEqual(['lkdtm_do_action', 'direct_entry']);
    expect(refs('Loaded firmware from somewhere')).toHaveLength(0);
  });
  it('headers: WARNING, KASAN, lockdep, hardirqs, Workqueue, inline', () => {
    expect(refs('WARNING: CPU: 0 PID: 1 at drivers/block/null_blk/main.c:12 null_queue_rq+0x5/0x320 [null_blk]')[0]).toMatchObject({ module: 'null_blk' });
    expect(refs('BUG: KASAN: use-after-free in vfs_write+0xf8/0x450')[0]).toMatchObject({ name: 'vfs_write' });
    expect(refs(' #0: ffff888003c6a438 (sb_writers#3){.+.+}-{0:0}, at: ksys_write+0x6f/0xf0')[0]).toMatchObject({ name: 'ksys_write' });
    expect(refs('hardirqs last  enabled at (1234): [<ffffffff81234567>] vfs_write+0xf8/0x450')[0]).toMatchObject({ address: '0xffffffff81234567' });
    expect(refs('Workqueue: events vmstat_update')[0]).toMatchObject({ name: 'vmstat_update' });
    expect(refs('Workqueue: kblockd null_queue_rq [null_blk] (kblockd)')[0]).toMatchObject({ name: 'null_queue_rq', module: 'null_blk' });
    expect(refs(' __dump_stack lib/dump_stack.c:94 [inline]')[0]).toMatchObject({ name: '__dump_stack' });
    expect(refs(' __dump_stack lib/dump_stack.c:94 (discriminator 2) [inline]'))
      .toEqual([{ name: '__dump_stack', module: null, address: null, text: '__dump_stack' }]);
    expect(findRefs(' __dump_stack lib/dump_stack.c:94 (discriminator 2) [inline]')[0]!.inline).toBe(true);
    expect(refs(' dump_stack_lvl+0x53/0x70 lib/dump_stack.c:120')[0]).toMatchObject({ name: 'dump_stack_lvl', module: null });
  });
  it('markers and info lines are not references', () => {
    const none = [' <IRQ>', ' </IRQ>', ' <TASK>', ' <NMI>', '** 12 printk messages dropped **', 'INFO: task kworker/0:1:12 blocked for more than 120 seconds.'];
    for (const l of none) expect(refs(l)).toHaveLength(0);
  });
});

describe('resolution and placement (hand-written lines, real table of fixtures/kernel-6.12)', () => {
  let table: SymbolTable;
  beforeAll(() => {
    table = loadTable(sourceOptions('nokaslr'), () => {}).table;
  }, 120_000);

  const run = (text: string, extra: Record<string, unknown> = {}, objname: 'always' | 'ambiguous' | 'never' = 'ambiguous') =>
    createAnnotator(table, { objname, refs: false, extra }).chunk(Buffer.from(text, 'latin1'), 1).toString('latin1');

  it('prefixes of every kind, annotation before the symbol word', () => {
    const lines = [
      'Nov 25 17:01:02 vm kernel:  lkdtm_do_action+0x18/0x30',
      'kern  :warn  : [   18.315897]  lkdtm_do_action+0x18/0x30',
      '[Wed Nov 25 17:01:02 2026]  ? lkdtm_do_action+0x18/0x30',
      '[   18.315897][  T910]  lkdtm_do_action+0x18/0x30\r',
      '4,1234,18315897,-,caller=T910; lkdtm_do_action+0x18/0x30',
      ' SUBSYSTEM=lkdtm',
      'RIP: 0010:lkdtm_BUG+0xa/0x10',
    ];
    expect(run(lines.join('\n') + '\n').split('\n').slice(0, -1)).toEqual([
      'Nov 25 17:01:02 vm kernel:  [lkdtm] lkdtm_do_action+0x18/0x30',
      'kern  :warn  : [   18.315897]  [lkdtm] lkdtm_do_action+0x18/0x30',
      '[Wed Nov 25 17:01:02 2026]  ? [lkdtm] lkdtm_do_action+0x18/0x30',
      '[   18.315897][  T910]  [lkdtm] lkdtm_do_action+0x18/0x30\r',
      '4,1234,18315897,-,caller=T910; [lkdtm] lkdtm_do_action+0x18/0x30',
      ' SUBSYSTEM=lkdtm',
      'RIP: [lkdtm] 0010:lkdtm_BUG+0xa/0x10',
    ]);
  });
  it('--place=after puts it after the reference (and after [mod])', () => {
    expect(run(' ? lkdtm_do_action+0x18/0x30\n', { place: 'after' })).toBe(' ? lkdtm_do_action+0x18/0x30 [lkdtm]\n');
    expect(run(' null_queue_rq+0x5/0x320 [null_blk]\n', { place: 'after' }, 'always')).toBe(' null_queue_rq+0x5/0x320 [null_blk] {null_blk/main.o}\n');
  });
  it('a printed [mod] is not repeated; objname added when asked', () => {
    expect(run(' null_queue_rq+0x5/0x320 [null_blk]\n')).toBe(' null_queue_rq+0x5/0x320 [null_blk]\n');
    expect(run(' null_queue_rq+0x5/0x320 [null_blk]\n', {}, 'always')).toBe(' {null_blk/main.o} null_queue_rq+0x5/0x320 [null_blk]\n');
  });
  it('the printed address decides ([<addr>] form, hardirqs)', () => {
    const i = table.indicesByName('vfs_write')[0]!;
    const addr = keyToHex(table.d.keys[i]! + 0xf8).slice(2);
    const r = resolveRef(table, { text: 'x', name: 'vfs_write', offset: 0xf8, size: 0x450, address: '0x' + addr, module: null });
    expect(r.resolvedBy.startsWith('address')).toBe(true);
    expect(r.objname).toBe('fs/read_write.o');
    // an address that is not in this table: the name decides
    const r2 = resolveRef(table, { text: 'x', name: 'lkdtm_BUG', offset: 0xa, size: 0x10, address: '0xc0123456', module: null });
    expect(r2.modules).toEqual(['lkdtm']);
  });
  it('the printed /size picks between same-name symbols', () => {
    let tested = 0;
    for (const [name, idx] of table.duplicatedNames()) {
      const sizes = idx.map((i) => table.kallsymsSize(i));
      const unique = idx.filter((_, k) => sizes.filter((z) => z === sizes[k]).length === 1 && sizes[k]! > 0);
      for (const i of unique.slice(0, 1)) {
        const mod = (table.d.flags[i]! & 1) ? table.modules(i)[0]! : null;
        const r = resolveRef(table, { text: 'x', name, offset: 0, size: table.kallsymsSize(i), address: null, module: mod });
        expect(r.ambiguous, name).toBe(false);
        expect(r.address).toBe(keyToHex(table.d.keys[i]!));
        expect(r.resolvedBy).toMatch(/size/);
        tested++;
      }
      if (tested >= 50) break;
    }
    expect(tested).toBeGreaterThan(10);
  });
  it('Workqueue and arm name-only references resolve by name', () => {
    expect(run('Workqueue: events lkdtm_do_action\n')).toBe('Workqueue: events [lkdtm] lkdtm_do_action\n');
    expect(run('[<c0123456>] (lkdtm_do_action) from [<c0654321>] (direct_entry+0x8d/0xe0)\n'))
      .toBe('[<c0123456>] [lkdtm] (lkdtm_do_action) from [<c0654321>] [lkdtm] (direct_entry+0x8d/0xe0)\n');
  });
  it('--refs: one object per reference, in order, with resolvedBy', () => {
    const out = createAnnotator(table, { objname: 'ambiguous', refs: true })
      .chunk(Buffer.from('x\n ? lkdtm_do_action+0x18/0x30\nRIP: 0033:0x47b7a0\n nosuchsym+0x1/0x2\n'), 1).toString();
    const j = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(j.map((r: { line: number; name: string }) => [r.line, r.name])).toEqual([[2, 'lkdtm_do_action'], [4, 'nosuchsym']]);
    expect(j[0]).toMatchObject({ offset: 0x18, size: 0x30, address: null, modules: ['lkdtm'], builtin: true, ambiguous: false });
    expect(j[0].resolvedBy).toMatch(/^name/);
    expect(j[1]).toMatchObject({ symbolAddress: null, ambiguous: false });
  });
});
