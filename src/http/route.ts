import type Router from '@koa/router';
import type { Static, TSchema } from '@sinclair/typebox';
import { BadRequest, Forbidden, Unauthorized } from '../platform/errors.ts';
import { compileSchema } from '../platform/validation.ts';
import type { Trace } from '../platform/trace.ts';
import { oncePer } from '../platform/oncePer.ts';
import type { Services } from '../services.ts';
import type { Claims, TokenRole } from './auth/claims.ts';
import { bearerToken, tokenRules } from './auth/jwt.ts';
import { VerifiedTokens } from './auth/verifiedTokens.ts';
import type { AppContext } from './context.ts';
import { readJsonBody } from './middleware/jsonBody.ts';
import { idempotencyRequest, isDuplicateKey, replayIfSeen, type IdempotencyRequest } from './idempotency.ts';

type Maybe<S> = S extends TSchema ? Static<S> : undefined;

export type Auth = 'public' | 'optional' | 'any' | readonly TokenRole[];

export interface HandlerArgs<B, Q, P, C> {
  ctx: AppContext;
  body: B;
  query: Q;
  params: P;
  claims: C;
  services: Services;
  /** The request's trace: hand it to the transactions and jobs the handler writes. */
  trace: Trace;
  /** Present when the route takes Idempotency-Key and the caller sent one: save the answer with it. */
  idempotency: IdempotencyRequest | null;
}

export interface Answer {
  status?: number;
  body: Record<string, unknown>;
  /** Write the body as it is, without the {success: true} wrapper (documents, not answers). */
  raw?: boolean;
  headers?: Record<string, string>;
}

type ClaimsFor<A extends Auth> = A extends 'public' ? null : A extends 'optional' ? Claims | null : Claims;

export interface RouteSpec<A extends Auth, B extends TSchema | undefined, Q extends TSchema | undefined, P extends TSchema | undefined> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  /** Extra paths served by the same handler (e.g. the seed's misspelt /chat/donat/add). */
  aliases?: string[];
  summary: string;
  tag: string;
  auth: A;
  body?: B;
  query?: Q;
  params?: P;
  /** Accepts an Idempotency-Key header; the handler stores its answer through `idempotency`. */
  idempotent?: boolean;
  responses: Record<number, { description: string; schema?: TSchema }>;
  handler: (args: HandlerArgs<Maybe<B>, Maybe<Q>, Maybe<P>, ClaimsFor<A>>) => Promise<Answer>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any, any>;

export function defineRoute<A extends Auth, B extends TSchema | undefined = undefined, Q extends TSchema | undefined = undefined, P extends TSchema | undefined = undefined>(
  spec: RouteSpec<A, B, Q, P>,
): AnyRoute {
  return spec as AnyRoute;
}

// One cache of verified tokens per process (per Services), shared by every route.
const tokensOf = oncePer((services: Services) => new VerifiedTokens(tokenRules(services.config)));

/** The caller's claims; at once for a token verified before (most requests), else a promise. */
function authenticate(ctx: AppContext, tokens: VerifiedTokens, auth: Auth): Claims | null | Promise<Claims> {
  if (auth === 'public') return null;
  const token = bearerToken(ctx.get('authorization') || undefined);
  if (!token) {
    if (auth === 'optional') return null;
    throw new Unauthorized('missing bearer token', 'unauthorized');
  }
  const verified = tokens.verify(token);
  return verified instanceof Promise ? verified.then((claims) => admit(ctx, auth, claims)) : admit(ctx, auth, verified);
}

function admit(ctx: AppContext, auth: Auth, claims: Claims): Claims {
  if (Array.isArray(auth) && !auth.includes(claims.role)) throw new Forbidden(`role "${claims.role}" may not do this`, 'forbidden_role');
  ctx.state.claims = claims;
  return claims;
}

type Validate = (value: unknown) => unknown;

/** Compiled once at mount, not looked up per request; null without a schema (that input is not read). */
function validator<S extends TSchema>(schema: S | undefined, where: string): Validate | null {
  if (!schema) return null;
  const check = compileSchema(schema);
  return (value) => {
    if (!check(value)) throw new BadRequest(`bad params: ${check.errors().join('; ')}`, 'bad_params', { where, problems: check.errors() });
    return value;
  };
}

export type RouteHandler = (ctx: AppContext) => Promise<void>;

/**
 * A route reads like a sentence: authenticate, read and validate input, call the service, answer.
 * Registers it on the router and returns its handler (app.ts also dispatches exact paths to it).
 */
export function mount(router: Router, services: Services, route: AnyRoute): RouteHandler {
  const tokens = tokensOf(services);
  const validQuery = validator(route.query, 'query');
  const validParams = validator(route.params, 'path');
  const validBody = validator(route.body, 'body');
  const handler = async (ctx: AppContext) => {
    const authenticated = authenticate(ctx, tokens, route.auth as Auth);
    const claims = authenticated instanceof Promise ? await authenticated : authenticated;
    const query = validQuery ? validQuery({ ...ctx.query }) : undefined;
    const params = validParams ? validParams({ ...(ctx as unknown as { params: Record<string, string> }).params }) : undefined;
    let body: unknown;
    if (route.method !== 'get' && route.method !== 'delete') {
      body = await readJsonBody(ctx, services.config.bodyLimitBytes);
      if (validBody) validBody(body ?? null);
      else if (body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0)) {
        throw new BadRequest('this endpoint takes no body fields', 'bad_params');
      }
    }
    let idempotency: IdempotencyRequest | null = null;
    if (route.idempotent && claims) {
      idempotency = idempotencyRequest(ctx, claims.sub, `${route.method} ${route.path}`, body);
      if (idempotency) {
        const replay = await replayIfSeen(services.db, idempotency);
        if (replay) {
          ctx.status = replay.status;
          ctx.body = replay.body;
          ctx.set('Idempotent-Replayed', 'true');
          return;
        }
      }
    }
    let answer: Answer;
    try {
      answer = await route.handler({ ctx, body, query, params, claims, services, idempotency, trace: ctx.state.trace } as never);
    } catch (err) {
      // Two requests with one key raced: the loser's insert of the key failed; answer as the winner did.
      const replay = idempotency && isDuplicateKey(err) ? await replayIfSeen(services.db, idempotency) : null;
      if (!replay) throw err;
      ctx.status = replay.status;
      ctx.body = replay.body;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    ctx.status = answer.status ?? 200;
    ctx.body = answer.raw ? answer.body : { success: true, ...answer.body };
    for (const [name, value] of Object.entries(answer.headers ?? {})) ctx.set(name, value);
  };
  for (const path of [route.path, ...(route.aliases ?? [])]) router.register(path, [route.method.toUpperCase()], handler as never);
  return handler;
}
