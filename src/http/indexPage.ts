import type { Middleware } from 'koa';
import type { AppState } from './context.ts';
import { places } from './places.ts';

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function render(ws: boolean): string {
  const items = places({ api: true, ws })
    .filter((place) => place.path !== '/')
    // The WebSocket endpoint is not a page to open: named, not linked.
    .map((place) => `<li>${place.scheme === 'ws' ? escape(place.title) : `<a href="${escape(place.path)}">${escape(place.title)}</a>`} <code>${escape(place.path)}</code> — ${escape(place.description)}</li>`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Conveyor</title></head>
  <body>
    <h1>Conveyor</h1>
    <p>Queue-based job platform. The HTTP API is described at <a href="/docs/">/docs/</a>.</p>
    <ul>
      ${items}
    </ul>
  </body>
</html>
`;
}

/** GET / : a small page linking the places a person looks for first. No scripts, no styles. */
export function indexPage(): Middleware<AppState> {
  // ws is listed: with one process per role the page's origin may not run it, but the path is the same.
  const body = render(true);
  return async (ctx, next) => {
    if (ctx.path !== '/' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.set('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = body;
  };
}
