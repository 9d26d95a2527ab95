import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import type { Role } from '../../../src/config.ts';

/** Shared by the hiring and event tests: a Conveyor, tokens per role, PUT and admin calls. */
/** The outside exercises service's uuid (a token's sub must be a lowercase uuid). */
export const EXERCISES_SERVICE = '00000000-0000-4000-8000-0000000e0e0e';

export interface HiringApp extends TestConveyor {
  as(role: string, sub?: string, extra?: Record<string, unknown>): Promise<{ sub: string; headers: Record<string, string> }>;
  put(path: string, body: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  admin: Record<string, string>;
  setFlag(name: string, value: unknown): Promise<HttpAnswer>;
}

export async function startHiring(opts: { env?: Record<string, string>; roles?: Role[] } = {}): Promise<HiringApp> {
  const app = await startConveyor({ env: { HIRING_REVIEW_THRESHOLD: '3', ...opts.env }, ...(opts.roles ? { roles: opts.roles } : {}) });
  const admin = { authorization: `Basic ${Buffer.from(`${app.config.adminUser}:${app.config.adminPassword}`).toString('base64')}` };
  const put = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(app.url + path, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
    return { status: response.status, headers: response.headers, body: parsed } as HttpAnswer;
  };
  return Object.assign(app, {
    admin,
    put,
    async as(role: string, sub = randomUUID(), extra: Record<string, unknown> = {}) {
      return { sub, headers: { authorization: `Bearer ${await app.token({ sub, role: role as never, ...extra })}` } };
    },
    setFlag: (name: string, value: unknown) => put(`/admin/flags/${name}`, { value }, admin),
  });
}

export function envelope(name: string, version: number, payload: unknown, o: { eventId?: string; producedAt?: string } = {}) {
  return { event_id: o.eventId ?? randomUUID(), event_name: name, event_version: version, produced_at: o.producedAt ?? new Date().toISOString(), payload };
}
