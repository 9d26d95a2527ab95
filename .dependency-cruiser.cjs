/** Import rules the code must keep: no cycles, and data flows down (DESIGN.md, "Layout"). */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    { name: 'domain-is-pure', severity: 'error', from: { path: '^src/domain' },
      to: { path: '^(jobs|queues|src/http|src/ws)/|node_modules/(koa|@koa|bullmq|ws|@bull-board)/' } },
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
