import { createRequire } from 'node:module';
import type { Middleware } from 'koa';
import type { AppState } from './context.ts';
import { staticPage } from './staticPage.ts';

const PAGE = new URL('../../public/popug/', import.meta.url);

/**
 * The popug dashboard page (public/popug/) at /popug/, and Chart.js's browser build from
 * node_modules at /popug/vendor/chart.umd.js; the popug API under /popug/ passes through.
 */
export function staticPopug(): Middleware<AppState> {
  const require = createRequire(import.meta.url);
  // chart.js exports only its ESM entry; its UMD build sits beside it.
  const chartDir = require.resolve('chart.js').replace(/chart\.cjs$|chart\.js$/, '');
  return staticPage('popug', PAGE, { 'vendor/chart.umd.js': `${chartDir}chart.umd.min.js` });
}
