import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'native/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'test/.distro-kernel/**'],
    // first a private TMPDIR for the whole run (later setups make their dirs in it), then the
    // per-kernel cache of the CLI under test: a temporary one, not ~/.cache/kallmod
    globalSetup: ['test/setup/private-tmpdir.ts', 'test/setup/cache-home.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // tests spawn the CLI and read large real kernel files: two cores, so keep it modest
    maxWorkers: 2,
  },
});
