/** Import rules the code must keep: no cycles, and data flows down (DESIGN.md, "Layout"). */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    // The outbox's writing half (writer, envelope) is the one part of queues/ a domain rule may use:
    // it writes rows in the caller's transaction and imports nothing that talks to Redis.
    { name: 'domain-is-pure', severity: 'error', from: { path: '^src/domain' },
      to: { path: '^(jobs|queues|src/http|src/ws)/|node_modules/(koa|@koa|bullmq|ws|@bull-board)/', pathNot: '^queues/outbox/(writer|envelope)\\.ts$' } },
    { name: 'outbox-writer-is-pure', severity: 'error', from: { path: '^queues/outbox/(writer|envelope)\\.ts$' },
      to: { path: '^(jobs|queues|src/http|src/ws|src/services\\.ts)|node_modules/(bullmq|ioredis)/', pathNot: '^queues/outbox/(writer|envelope)\\.ts$' } },
    // The platform is the floor everything stands on: it knows no queue, job, transport or the wiring.
    { name: 'platform-is-the-floor', severity: 'error', from: { path: '^src/platform' },
      to: { path: '^(jobs|queues|src/http|src/ws|src/domain)/|^src/(services|runtime|main)\\.ts$' } },
    { name: 'queues-never-import-jobs', severity: 'error', from: { path: '^queues' }, to: { path: '^jobs/' } },
    { name: 'no-test-imports-in-code', severity: 'error', from: { pathNot: '^(test|scripts)/' }, to: { path: '^test/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
