import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Middleware } from 'koa';
import type { AppState } from './context.ts';

// The page loads nothing from elsewhere (the chart library is served from node_modules here).
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const PAGE = new URL('../../public/popug/', import.meta.url);

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

function file(path: string | URL, type: string): StaticFile {
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Serves the popug dashboard page (public/popug/) at /popug/, and Chart.js's browser build from
 * node_modules at /popug/vendor/chart.umd.js. Files are read once, by name; every other /popug/
 * path (the API) passes through.
 */
export function staticPopug(): Middleware<AppState> {
  const require = createRequire(import.meta.url);
  // chart.js exports only its ESM entry; its UMD build sits beside it.
  const chartDir = require.resolve('chart.js').replace(/chart\.cjs$|chart\.js$/, '');
  const files = new Map<string, StaticFile>([
    ['/popug/', file(new URL('index.html', PAGE), 'text/html; charset=utf-8')],
    ['/popug/app.js', file(new URL('app.js', PAGE), 'text/javascript; charset=utf-8')],
    ['/popug/style.css', file(new URL('style.css', PAGE), 'text/css; charset=utf-8')],
    ['/popug/vendor/chart.umd.js', file(`${chartDir}chart.umd.min.js`, 'text/javascript; charset=utf-8')],
  ]);
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/popug') return ctx.redirect('/popug/');
    const hit = files.get(ctx.path);
    if (!hit) return next();
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.etag = hit.etag;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = hit.type;
    ctx.body = hit.body;
  };
}
