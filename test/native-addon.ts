/**
 * The one test of whether tests that need the native addon can run: it is built and loaded
 * (not when KALLMOD_NATIVE=0 or without `npm run build:native`). Tests that do not need the
 * addon run on whichever path is active; CI runs the suite on both (.ci/run).
 */
import { nativeStatus } from '@kallmod/core/native';

/** Null when the addon is loaded; else why not, printed once under `label`. */
export function nativeSkipReason(label: string): string | null {
  const s = nativeStatus();
  if (s.path === 'native') return null;
  const why = s.reason ?? 'native addon not loaded';
  console.log(`[${label}] skipped: ${why}`);
  return why;
}
