import Koa from 'koa';
import Router from '@koa/router';
import type { Services } from '../services.ts';
import type { AppState } from './context.ts';
import { errorHandler } from './middleware/errorHandler.ts';
import { requestContext } from './middleware/requestContext.ts';
import { adminAuth, bullBoard } from './bullBoard.ts';
import { buildOpenApi } from './openapi.ts';
import { mount, type AnyRoute, type RouteHandler } from './route.ts';
import { systemRoutes } from './routes/system.ts';
import { notifyRoutes } from './routes/notify.ts';
import { chatRoutes } from './routes/chat.ts';
import { bonusRoutes } from './routes/bonus.ts';
import { popugRoutes } from './routes/popug.ts';
import { staticPopug } from './staticPopug.ts';
import { eventRoutes } from './routes/events.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { devRoutes } from './routes/dev.ts';
import { schemaRoutes } from './routes/schemas.ts';
import { hiringRoutes } from './routes/hiring.ts';
import { flagRoutes } from './routes/flags.ts';
import { deadLetterRoutes } from './routes/deadLetters.ts';
import { staticChat } from './staticChat.ts';
import { mountMetrics } from './metricsRoute.ts';
import { indexPage } from './indexPage.ts';
import { apiDocs } from './apiDocs.ts';
import { servedOutsideRouter } from './servedOutsideRouter.ts';
import { contracts } from '../../queues/contracts/index.ts';

/** Every module's routes; the OpenAPI document is built from this same list. */
export function moduleRoutes(): AnyRoute[] {
  return [...notifyRoutes(), ...chatRoutes(), ...eventRoutes(), ...bonusRoutes(), ...notificationRoutes(), ...schemaRoutes(), ...hiringRoutes(), ...flagRoutes(), ...deadLetterRoutes(), ...popugRoutes()];
}

export interface AppOptions {
  /** Serve the API (false for a ws-only process, which still answers health and metrics). */
  api: boolean;
}

/** The app and its router (the OpenAPI completeness test walks the router's routes). */
export type ConveyorApp = Koa<AppState> & { router: Router };

export function createApp(services: Services, opts: AppOptions = { api: true }): ConveyorApp {
  const app = new Koa<AppState>();
  // The client IP (rate limits per IP) comes from X-Forwarded-For only behind a proxy that sets
  // it, and then only the entry that proxy appended: the rest are whatever the client wrote.
  app.proxy = services.config.trustProxy;
  app.maxIpsCount = 1;
  // Koa's own error event would log twice; errorHandler already logged.
  app.silent = true;

  const routes = opts.api ? [...moduleRoutes(), ...(services.config.devTokens ? devRoutes() : [])] : [];
  let openApi: Record<string, unknown> | undefined;
  const all: AnyRoute[] = [...systemRoutes((): Record<string, unknown> => (openApi ??= buildOpenApi(all, servedOutsideRouter()))), ...routes];

  const router = new Router();
  const handlers = all.map((route) => ({ route, handler: mount(router, services, route) }));
  mountMetrics(router, services);

  app.use(requestContext(services));
  app.use(errorHandler());
  // Before the chat page and the board, but exactRoutes leaves the paths they serve alone.
  app.use(exactRoutes(router, handlers));
  if (opts.api) {
    app.use(indexPage());
    app.use(apiDocs());
    app.use(staticChat());
    app.use(staticPopug());
    const { adminUser, adminPassword, adminAuthFailuresPerMinute, queuePrefix } = services.config;
    app.use(adminAuth({ user: adminUser, password: adminPassword, limits: { redis: services.redis, prefix: queuePrefix }, failuresPerMinute: adminAuthFailuresPerMinute }));
    app.use(bullBoard(() => Object.keys(contracts).map((name) => services.queues.get(name))));
  }
  app.use(router.routes());
  app.use(router.allowedMethods());
  return Object.assign(app, { router });
}

// Behind HTTP Basic (Bull Board, dead letters), and paths with parameters: never short-cut.
const NOT_EXACT = /^\/admin(\/|$)|[:*(){}?]/;
// The pages (GET / , /docs/..., /chat/...) answer GET and HEAD only: those go the long way.
const PAGES = /^\/(chat|docs)(\/|$)|^\/$/;

/**
 * Requests to a route without path parameters go straight to its handler: one Map lookup instead
 * of the middlewares in between and the router testing every route's pattern in turn. Only paths
 * the router would send to that one route alone are taken; the rest (other spellings, HEAD,
 * params, 405s, the pages' GETs, the board) go the long way.
 */
function exactRoutes(router: Router, handlers: { route: AnyRoute; handler: RouteHandler }[]): Koa.Middleware<AppState> {
  const exact = new Map<string, { path: string; handler: RouteHandler }>();
  for (const { route, handler } of handlers) {
    const method = route.method.toUpperCase();
    for (const path of [route.path, ...(route.aliases ?? [])]) {
      if (NOT_EXACT.test(path) || ((method === 'GET' || method === 'HEAD') && PAGES.test(path))) continue;
      const matched = router.match(path, method).pathAndMethod;
      if (matched.length === 1 && matched[0]!.path === path) exact.set(`${method} ${path}`, { path, handler });
    }
  }
  return (ctx, next) => {
    const hit = exact.get(`${ctx.method} ${ctx.path}`);
    if (!hit) return next();
    // What the router would have set: the route label for metrics, and no params.
    Object.assign(ctx, { _matchedRoute: hit.path, routerPath: hit.path, params: {} });
    Object.assign(ctx.request, { params: {} });
    return hit.handler(ctx);
  };
}
