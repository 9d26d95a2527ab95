// @ts-check
import tseslint from 'typescript-eslint';

const domainBans = [
  { group: ['koa', 'koa/*', '@koa/*', 'bullmq', 'ws', '@bull-board/*'], message: 'src/domain holds rules only: no transport or queue imports.' },
  { group: ['**/jobs/**', '**/http/**', '**/ws/**'], message: 'src/domain never imports jobs/, src/http or src/ws.' },
  // The outbox's writing half writes rows in the caller's transaction and talks to no queue.
  { regex: '/queues/(?!outbox/(writer|envelope)\\.ts$)', message: 'src/domain imports nothing from queues/ but the outbox writer and envelope.' },
];

const platformBans = [
  { group: ['**/jobs/**', '**/queues/**', '**/http/**', '**/ws/**', '**/domain/**', '**/services.ts', '**/runtime.ts'],
    message: 'src/platform is the floor: it imports no queue, job, transport, domain rule or the process wiring.' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'public/**/*.js', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', {
        selector: "MemberExpression[object.name='process'][property.name='env']",
        message: 'Read settings through src/config.ts only.',
      }],
    },
  },
  { files: ['src/config.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'knexfile.ts'], rules: { 'no-restricted-syntax': 'off' } },
  { files: ['src/domain/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: domainBans }] } },
  { files: ['src/platform/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: platformBans }] } },
  { files: ['queues/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/jobs/**'], message: 'queues/ never imports jobs/.' }] }] } },
);
