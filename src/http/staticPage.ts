import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import type { Middleware } from 'koa';
import type { AppState } from './context.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

// A page loads nothing from elsewhere and talks only to this origin (HTTP API and /ws).
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

function staticFile(path: URL | string): StaticFile | null {
  const type = TYPES[extname(String(path))];
  if (!type) return null;
  const body = readFileSync(path);
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/**
 * Serves a page folder (public/<name>/) under /<name>/, plus `extra` files (path under the mount →
 * file, e.g. a library from node_modules). Files are read once at start, by name, so no request
 * path ever reaches the file system; anything else under the mount (the module's API) passes through.
 */
export function staticPage(name: string, dir: URL, extra: Record<string, URL | string> = {}): Middleware<AppState> {
  const mount = `/${name}/`;
  const files = new Map<string, StaticFile>();
  for (const [path, source] of [...readdirSync(dir).map((f): [string, URL] => [f, new URL(f, dir)]), ...Object.entries(extra)]) {
    const file = staticFile(source);
    if (file) files.set(`${mount}${path}`, file);
  }
  const index = files.get(`${mount}index.html`);
  if (index) files.set(mount, index);
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === `/${name}`) return ctx.redirect(mount);
    const file = files.get(ctx.path);
    if (!file) return next();
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.etag = file.etag;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = file.type;
    ctx.body = file.body;
  };
}
