// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Workflow code is replayed: anything that touches the outside world must live in an activity.
const workflowForbiddenImports = {
  paths: [
    'fs', 'http', 'https', 'net', 'dns', 'child_process', 'crypto', 'os', 'worker_threads', 'timers', 'path',
    'postgres', 'mongodb', 'drizzle-orm', 'playwright', 'playwright-core', 'undici', 'pino', 'cheerio',
    '@temporalio/activity', '@temporalio/worker', '@temporalio/client',
  ].map((name) => ({ name, message: 'Workflow code must be deterministic: do I/O in an activity.' })),
  patterns: [
    { group: ['node:*'], message: 'Workflow code must not use Node APIs: do I/O in an activity.' },
    { group: ['drizzle-orm/*', '@opentelemetry/sdk-*'], message: 'Workflow code must be deterministic: do I/O in an activity.' },
    {
      group: ['../activities/*', '../../activities/*', '!../activities/*/types', '!../../activities/*/types'],
      allowTypeImports: true,
      message: 'Workflows may import activity types only (use `import type`) and call them through proxyActivities.',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.data/**', '.tools/**', 'drizzle/**', 'bench/**', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs these itself; awaiting them at top level is not how the runner is used.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'test', 'it', 'suite', 'before', 'after'] }] },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', workflowForbiddenImports],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'process', message: 'Workflows get their inputs as arguments, not from the process.' },
        { name: 'fetch', message: 'Do HTTP in an activity.' }],
    },
  },
  {
    // Whether retrying can help is the error's own business (activities/engine/errors.ts, applied by the
    // workers' interceptor): a list of type names in a workflow would drift from the errors it names.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: "Property[key.name='nonRetryableErrorTypes']", message: 'Errors say whether retrying helps (activities/engine/errors.ts): no list of type names in workflows.' }],
    },
  },
  {
    // The CLI and the API are two clients of control/: neither is the other's service layer.
    files: ['scripts/cli/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/api', '**/api/*'], message: 'The CLI starts and reads runs through control/, not through api/.' }] }],
    },
  },
  {
    files: ['api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/scripts/*'], message: 'The API starts and reads runs through control/, not through the scripts or the CLI.' }] }],
    },
  },
  {
    // Settings come from the one zod config module (schema/config.ts), which alone reads the environment:
    // a variable read here would escape its checks, its defaults and `moisson config check`.
    files: ['activities/**/*.ts', 'workflows/**/*.ts', 'api/**/*.ts', 'workers/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read settings through schema/config.ts (a loader, or a deps.env passed down), not process.env.' }],
    },
  },
  {
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
