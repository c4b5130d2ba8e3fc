import { createRequire } from 'node:module';
import { statSync } from 'node:fs';

/**
 * What the first run on a kernel is doing, said once on stderr: parsing a vmlinux's DWARF takes
 * seconds, and the user should know it happens once and where the result goes. The bar is drawn
 * only on a terminal (cli-progress), as the stream driver's (stream/progress.ts).
 */
export function dwarfProgress(path: string, cacheNote: string, say: boolean): (done: number, total: number) => void {
  let mb = '';
  try { mb = ` (${Math.round(statSync(path).size / 1e6)} MB)`; } catch { /* size unknown */ }
  const tty = process.stderr.isTTY && !process.env['CI'];
  if (say || tty) process.stderr.write(`kallmod: reading the DWARF of ${path}${mb} for objnames and sizes; ${cacheNote}\n`);
  if (!tty) return () => {};
  const cp = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cp.SingleBar({
    stream: process.stderr, format: 'kallmod DWARF {bar} {percentage}% {value}/{total} compile units', hideCursor: true,
    // the parse is synchronous: redraw from update() itself, timers would not fire
    synchronousUpdate: true, fps: 5, noTTYOutput: false, clearOnComplete: true,
  }, cp.Presets.shades_classic);
  let started = false;
  return (done, total) => {
    if (!started) { bar.start(total, 0); started = true; }
    bar.update(done);
    if (done >= total) bar.stop();
  };
}
