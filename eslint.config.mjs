// Lint: typescript-eslint's recommended type-aware rules, plus the house rule that workflow code imports only
// @temporalio/workflow and pure modules (determinism: all I/O lives in activities). The folder rules of the whole
// of src/ (allowed arrows, index-only imports) are test/architecture.test.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.promoflow/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'http', 'https', 'net', 'child_process', 'crypto', 'os', 'path'], message: 'workflow code is deterministic: I/O belongs in activities', allowTypeImports: true },
            // Each folder bare and deep: a bare '../signing' is an import of the whole folder.
            { group: ['oci', 'signing', 'activities', 'inventory', 'client', 'worker', 'dev', 'testing'].flatMap((f) => [`../${f}`, `../${f}/*`]).concat(['@temporalio/client', '@temporalio/worker', '@temporalio/activity']), message: 'workflows import only @temporalio/workflow and pure modules (model, contract, plan, manifest types)', allowTypeImports: true },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { require: 'readonly', process: 'readonly', console: 'readonly', __dirname: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
