import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Middleware } from 'koa';
import type { AppState } from './context.ts';

const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Conveyor API reference</title>
    <link rel="stylesheet" href="./swagger-ui.css">
    <link rel="icon" type="image/png" href="./favicon-32x32.png" sizes="32x32">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="./swagger-ui-bundle.js"></script>
    <script src="./init.js"></script>
  </body>
</html>
`;

// A file, not an inline script, so the page's CSP needs no 'unsafe-inline' for scripts.
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

// Swagger UI sets inline styles; everything comes from this origin (node_modules/swagger-ui-dist), no CDN.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface File {
  body: Buffer;
  type: string;
  etag: string;
}

const file = (body: Buffer | string, type: string): File => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { body: bytes, type, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"` };
};

let cached: Map<string, File> | undefined;

/** Read on first use, by name: no request path reaches the file system. */
function files(): Map<string, File> {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const dist = (name: string) => readFileSync(require.resolve(`swagger-ui-dist/${name}`));
  cached = new Map([
    ['', file(INDEX, 'text/html; charset=utf-8')],
    ['init.js', file(INIT, 'text/javascript; charset=utf-8')],
    ['swagger-ui.css', file(dist('swagger-ui.css'), 'text/css; charset=utf-8')],
    ['swagger-ui-bundle.js', file(dist('swagger-ui-bundle.js'), 'text/javascript; charset=utf-8')],
    ['favicon-32x32.png', file(dist('favicon-32x32.png'), 'image/png')],
  ]);
  return cached;
}

/** The API reference at /docs/: Swagger UI from node_modules over this app's /openapi.json. */
export function apiDocs(): Middleware<AppState> {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/docs') return ctx.redirect('/docs/');
    if (!ctx.path.startsWith('/docs/')) return next();
    const found = files().get(ctx.path.slice('/docs/'.length));
    if (!found) return next();
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', CSP);
    ctx.etag = found.etag;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = found.type;
    ctx.body = found.body;
  };
}
