import type { Writable } from 'node:stream';

/**
 * Progress on stderr for long file inputs, only when stderr is a terminal (and NO_COLOR/CI do
 * not say otherwise), and only when the output is not the same terminal. cli-progress draws it.
 */
export interface Progress { update(bytes: number): void; stop(): void }

const MIN_BYTES = 64 << 20;

export function createProgress(total: number, out: Writable): Progress | null {
  if (total < MIN_BYTES || !process.stderr.isTTY || process.env.CI) return null;
  if ((out as { isTTY?: boolean }).isTTY) return null;
  // loaded lazily: most runs never draw a bar
  let bar: { update(n: number): void; stop(): void } | null = null;
  let started = false;
  let last = 0;
  return {
    update(bytes: number) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      if (!started) {
        started = true;
        import('cli-progress').then((m) => {
          const cp = (m.default ?? m) as typeof import('cli-progress');
          const b = new cp.SingleBar({ stream: process.stderr, format: 'kallmod {bar} {percentage}% {value}/{total} MB', hideCursor: true, noTTYOutput: false }, cp.Presets.shades_classic);
          b.start(Math.round(total / 1e6), 0);
          bar = { update: (n) => b.update(Math.round(n / 1e6)), stop: () => b.stop() };
        }).catch(() => { /* no bar is fine */ });
      }
      bar?.update(bytes);
    },
    stop() { bar?.stop(); },
  };
}
