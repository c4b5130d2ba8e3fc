import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';

/**
 * Progress on stderr for long file inputs, only when stderr is a terminal (not under CI, and
 * not when the output goes to that same terminal). cli-progress draws it.
 */
export interface Progress { update(bytes: number): void; stop(): void }

const MIN_BYTES = 64 << 20;

export function createProgress(total: number, out: Writable): Progress | null {
  if (total < MIN_BYTES || !process.stderr.isTTY || process.env.CI) return null;
  if ((out as { isTTY?: boolean }).isTTY) return null;
  // loaded only here (most runs draw no bar), synchronously: the annotation loop may never
  // yield to the event loop, and a bar started late would keep its redraw timer running
  const cp = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cp.SingleBar({
    stream: process.stderr, format: 'kallmod {bar} {percentage}% {value}/{total} MB', hideCursor: true,
    // redraw from update() itself: the loop is synchronous, timers would not fire
    synchronousUpdate: true, fps: 5, noTTYOutput: false,
  }, cp.Presets.shades_classic);
  bar.start(Math.round(total / 1e6), 0);
  return {
    update(bytes: number) { bar.update(Math.round(bytes / 1e6)); },
    stop() { bar.update(Math.round(total / 1e6)); bar.stop(); },
  };
}
