// ESLint flat config: typescript-eslint's recommended rules (syntax only: the type-aware
// set would make `npm run lint` run the type checker a second time) plus a 160-column limit.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/', '**/bundle/', 'native/target/', 'fixtures/', 'test/.distro-kernel/', '**/*.d.ts'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // code and comments wrap at 160; a URL, or a line that only defines one regex (a kernel
      // format), stays whole: a regex literal cannot be split without becoming a string
      '@stylistic/max-len': ['error', { code: 160, ignoreUrls: true, ignorePattern: String.raw`^\s*(?:export )?const \w+ = /.*/[a-z]*;$` }],
      // `_name` marks a parameter or a destructured-away field kept for its position or to drop it
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**'],
    rules: {
      // tests walk parsed JSON output (perf JSON, --refs) without declaring its whole shape
      '@typescript-eslint/no-explicit-any': 'off',
      // expected output is written as it prints: two spaces are the column gap, not a count
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['native/index.js'],
    languageOptions: { sourceType: 'commonjs' },
    // the addon's loader is CommonJS by necessity (napi addons load through require)
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
