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

// The page loads nothing from elsewhere and talks only to this origin (HTTP API and /ws).
const CSP = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const PUBLIC_CHAT = new URL('../../public/chat/', import.meta.url);

/**
 * Serves the chat page (public/chat/) under /chat/. The files are read once at start, by name,
 * so no request path ever reaches the file system; anything else under /chat/ (the chat API)
 * passes through.
 */
export function staticChat(dir: URL = PUBLIC_CHAT): Middleware<AppState> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(new URL(name, dir));
    files.set(name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/chat') return ctx.redirect('/chat/');
    if (!ctx.path.startsWith('/chat/')) return next();
    const file = files.get(ctx.path === '/chat/' ? 'index.html' : ctx.path.slice('/chat/'.length));
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
