import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'var/**', 'dist/**', 'coverage/**', '**/*.js', '**/*.mjs', 'worker/local-temporal/engine/temporal-test-server'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Handlers implement async interfaces; an async function without await is not a bug here.
      '@typescript-eslint/require-await': 'off',
      // Workflow state assigned after the handlers that read it are registered is the pattern, not a slip.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Kysely migrations take Kysely<any> by convention: they must not depend on today's schema types.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
    },
  },
  {
    files: ['db/migrations/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Workflow code is bundled and replayed deterministically: no Node built-ins, no I/O modules,
    // and activities only as types.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
          patterns: [
            { group: ['**/db', '**/db/**'], message: 'Workflow code must not reach the database: use an activity.' },
            { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'Workflows import activity types only (import type).' },
            { group: ['**/api/**', '**/worker/**', 'pg', 'kysely', 'nodemailer', 'express'], message: 'Workflow code must stay deterministic and I/O-free.' },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
