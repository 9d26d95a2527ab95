// @ts-check
import tseslint from 'typescript-eslint';

const domainBans = [
  { group: ['koa', 'koa/*', '@koa/*', 'bullmq', 'ws', '@bull-board/*'], message: 'src/domain holds rules only: no transport or queue imports.' },
  { group: ['**/jobs/**', '**/queues/**', '**/http/**', '**/ws/**'], message: 'src/domain never imports jobs/, queues/, src/http or src/ws.' },
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
  { files: ['queues/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/jobs/**'], message: 'queues/ never imports jobs/.' }] }] } },
);
