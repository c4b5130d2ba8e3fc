import { createRequire } from 'node:module';

/** Which annotation path is in use: the optional native addon, or TypeScript. */
export function nativeStatus(): { path: 'native' | 'typescript'; reason?: string } {
  if (process.env.KALLMOD_NATIVE === '0') return { path: 'typescript', reason: 'KALLMOD_NATIVE=0' };
  try {
    const require = createRequire(import.meta.url);
    const m = require('@kallmod/native') as { native: unknown; loadError?: unknown };
    if (m.native) return { path: 'native' };
    return { path: 'typescript', reason: `native addon not loaded: ${String((m.loadError as Error | undefined)?.message ?? 'absent')}` };
  } catch (e) {
    return { path: 'typescript', reason: `native addon not installed: ${(e as Error).message.split('\n')[0]}` };
  }
}
