// ESLint (flat config): typescript-eslint's recommended rules for the sources, tests, bench and
// scripts; formatting is Prettier's (eslint-config-prettier turns the overlapping rules off), and
// @stylistic's max-len holds comments, strings and code to the same 120 columns Prettier prints
// (long strings are split with `+`; only test titles and URLs may run longer).
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/data/', 'test/fixtures/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          tabWidth: 2,
          ignoreUrls: true,
          ignoreRegExpLiterals: true,
          // A test's title stays one greppable line: Prettier keeps `it('…', async () => {` whole.
          ignorePattern: String.raw`^\s*(it|describe)\(`,
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      eqeqeq: ['error', 'always'],
      'no-console': 'off',
    },
  },
  // The arrows of the layout: src/core knows nothing of the edges (the command line, the
  // terminal, the sinks); the sinks implement core's contracts and know nothing of the CLI.
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/sinks/**', '**/cli/**', '**/output/**', '**/commands/**'],
              message: 'src/core imports no edge.',
            },
            {
              group: ['@oclif/*', 'chalk', 'cli-table3'],
              message: 'src/core knows nothing of the CLI or the terminal.',
            },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/\\/(sinks|cli|output|commands)\\//]',
          message: 'src/core imports no edge.',
        },
      ],
      'no-restricted-properties': [
        'error',
        ...['env', 'stdout', 'stderr', 'stdin'].map((property) => ({
          object: 'process',
          property,
          message: 'src/core takes its settings and streams as arguments.',
        })),
      ],
    },
  },
  {
    files: ['src/sinks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**', '**/output/**', '**/commands/**'], message: 'A sink imports core, never the CLI.' },
          ],
        },
      ],
    },
  },
);
