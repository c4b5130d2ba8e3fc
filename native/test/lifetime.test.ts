/**
 * The addon's objects live and die with their JS handles: every function holds an Arc of its
 * state, released by a finalizer, and the typed arrays it borrows stay alive until then. Checked
 * in a child node with --expose-gc (tables and rewriters made and dropped by the thousand, the
 * arrays collected under them) and in worker threads using the addon at the same time.
 * Skipped, with the reason printed, when the addon is not built or KALLMOD_NATIVE=0.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeSkipReason } from '../../test/native-addon.js';

const nativeDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const why = nativeSkipReason('native lifetime');

function node(args: string[], script: string): { out: string; status: number | null; err: string } {
  const r = spawnSync(process.execPath, [...args, '-e', script], { cwd: nativeDir, encoding: 'utf8', timeout: 60000 });
  return { out: r.stdout, status: r.status, err: r.stderr };
}

/** A small table, its lookups checked against a plain scan (no core needed in the child). */
const TABLE = `
const { native } = require('./index.js');
function make(n) {
  const keys = new Float64Array(n), ks = new Float64Array(n), fl = new Uint8Array(n), ex = new Float64Array(n), ty = new Uint8Array(n).fill(116);
  for (let i = 0; i < n; i++) { keys[i] = 2 ** 48 + 0xffff81000000 + i * 64; ks[i] = 64; }
  return { t: native.createTable(keys, ks, fl, ex, ty), keys };
}
function check(t, keys) {
  const q = new Float64Array(keys.length * 2), out = new Int32Array(q.length);
  for (let i = 0; i < keys.length; i++) { q[2 * i] = keys[i] + 63; q[2 * i + 1] = keys[i] + 64 * keys.length; }
  t.lookupBatch(q, out);
  for (let i = 0; i < keys.length; i++) if (out[2 * i] !== i || out[2 * i + 1] !== -1) throw new Error('wrong lookup at ' + i);
}
`;

describe.skipIf(why !== null)('native addon lifetime', () => {
  it('tables and rewriters made and dropped by the thousand, with GC in between', () => {
    const r = node(['--expose-gc'], `${TABLE}
      // finalizers run after a GC, on a later turn of the event loop: yield between rounds
      const tick = () => new Promise((r) => setImmediate(r));
      (async () => {
      let kept = make(1000);
      const rss0 = process.memoryUsage().rss;
      for (let round = 0; round < 20; round++) {
        for (let k = 0; k < 200; k++) {
          const { t, keys } = make(2000);
          const rw = t.createPerfRewriter();
          rw.setSymbol(0, Buffer.from('x'), Buffer.from(' [m]'));
          if (k % 50 === 0) check(t, keys);
        }
        gc(); await tick(); gc(); await tick();
        check(kept.t, kept.keys);
      }
      const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
      console.log(grew < 64 ? 'ok' : 'rss grew ' + grew.toFixed(0) + ' MiB');
      })();
    `);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('ok');
  }, 60000);

  it('a detached function keeps its table alive', () => {
    const r = node(['--expose-gc'], `${TABLE}
      let { t, keys } = make(500);
      const f = t.lookupBatch; const copy = Float64Array.from(keys);
      t = null; keys = null; gc();
      setImmediate(() => {
        gc();
        setImmediate(() => {
          // the table object and the keys array are gone from JS: the function still works
          const out = new Int32Array(1); f(Float64Array.of(copy[7] + 1), out);
          console.log(out[0] === 7 ? 'ok' : 'got ' + out[0]);
        });
      });
    `);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('ok');
  });

  it('worker threads load and use the addon at the same time', () => {
    const r = node([], `
      const { Worker } = require('node:worker_threads');
      const code = ${JSON.stringify(TABLE)} + "for (let k = 0; k < 50; k++) { const { t, keys } = make(5000); check(t, keys); } " +
        "require('node:worker_threads').parentPort.postMessage('done');";
      let n = 0;
      for (let w = 0; w < 4; w++) {
        const wk = new Worker(code, { eval: true });
        wk.on('message', () => { if (++n === 4) console.log('ok'); });
        wk.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
      }
    `);
    expect(r.err).toBe('');
    expect(r.out.trim()).toBe('ok');
  }, 60000);
});
