import type { Db } from '../../platform/db.ts';
import type { Transactor } from '../../platform/db.ts';
import { backoffDelay } from '../../platform/backoff.ts';
import { applyToActor } from './actor.ts';
import type { BonusSettings } from './settings.ts';
import { waitingUsers } from './store.ts';

/** What the accounts service said about one user. */
export type LinkAnswer =
  | { kind: 'linked'; yandexUid: string }
  | { kind: 'unlinked' }
  /** Down or overloaded: network error, timeout, 408, 429, 5xx. Back off and ask again. */
  | { kind: 'down'; reason: string }
  /** An answer no retry will change (another 4xx, a malformed body): skip this user this time. */
  | { kind: 'skip'; reason: string };

/** `GET <accounts_url>/users/<user_id>` → `{"yandex_uid": "..." | null}`; 404 means no such user, so no link. */
export async function askAccounts(baseUrl: string, userId: string, timeoutMs: number): Promise<LinkAnswer> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/users/${encodeURIComponent(userId)}`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (err) {
    return { kind: 'down', reason: (err as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (err as Error).message };
  }
  const text = await response.text().catch(() => '');
  if (response.status === 404) return { kind: 'unlinked' };
  if (response.status === 408 || response.status === 429 || response.status >= 500) return { kind: 'down', reason: `answered ${response.status}` };
  if (response.status !== 200) return { kind: 'skip', reason: `answered ${response.status}` };
  try {
    const uid = (JSON.parse(text) as { yandex_uid?: unknown }).yandex_uid;
    if (typeof uid === 'string' && uid.length > 0 && uid.length <= 128) return { kind: 'linked', yandexUid: uid };
    if (uid === null || uid === undefined) return { kind: 'unlinked' };
    return { kind: 'skip', reason: 'yandex_uid is not a string' };
  } catch {
    return { kind: 'skip', reason: 'answer is not JSON' };
  }
}

/** The accounts service stayed down through every backoff: the pass stops; the job retries it later. */
export class AccountsDown extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountsDown';
  }
}

export interface RecheckDeps {
  db: Db;
  settings: BonusSettings;
  now: () => number;
  channels: Iterable<string>;
  /** Opens the transactions that apply links (the outbox's, which hands their rows on after each commit). */
  transaction: Transactor;
  /** Defaults to askAccounts against settings.accountsUrl. */
  ask?: (userId: string) => Promise<LinkAnswer>;
  sleep?: (ms: number) => Promise<void>;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface RecheckReport {
  checked: number;
  linked: number;
  skipped: number;
  /** Pauses taken because the accounts service was down. */
  pauses: number;
  durationMs: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Asks the accounts service about every user waiting for a link, in pages of batchSize with
 * `concurrency` requests in flight, and feeds every link found to the user's actor (which pays the
 * bonus: the seed's "довыдать"). When the service is down, all requests pause together with
 * exponential backoff; after giveUpAfter failed waves in a row the pass throws AccountsDown.
 */
export async function recheckLinks(deps: RecheckDeps): Promise<RecheckReport> {
  const { settings } = deps;
  const started = Date.now();
  const report: RecheckReport = { checked: 0, linked: 0, skipped: 0, pauses: 0, durationMs: 0 };
  const accountsUrl = settings.accountsUrl;
  if (!accountsUrl && !deps.ask) return report;
  const ask = deps.ask ?? ((userId: string) => askAccounts(accountsUrl!, userId, settings.recheck.timeoutMs));
  const sleep = deps.sleep ?? realSleep;
  const breaker = { failures: 0, openedAt: 0, resumeAt: 0 };

  let after = '';
  for (;;) {
    const users = await waitingUsers(deps.db, after, settings.recheck.batchSize);
    if (users.length === 0) break;
    after = users[users.length - 1]!;
    const found = await askAll(users, ask, sleep, settings, breaker, report, deps.log);
    await applyLinks(deps, found);
    report.checked += users.length;
    report.linked += found.length;
  }
  report.durationMs = Date.now() - started;
  deps.log?.info({ ...report }, 'bonus link re-check done');
  return report;
}

type Breaker = { failures: number; openedAt: number; resumeAt: number };

async function askAll(
  users: string[],
  ask: (userId: string) => Promise<LinkAnswer>,
  sleep: (ms: number) => Promise<void>,
  settings: BonusSettings,
  breaker: Breaker,
  report: RecheckReport,
  log: RecheckDeps['log'],
): Promise<{ userId: string; yandexUid: string }[]> {
  const found: { userId: string; yandexUid: string }[] = [];
  const { concurrency, backoff, giveUpAfter } = settings.recheck;
  let index = 0;
  let aborted: Error | undefined;
  const worker = async () => {
    while (!aborted && index < users.length) {
      const userId = users[index++]!;
      for (;;) {
        // Again after every sleep: a worker whose timer fired late may find the breaker opened anew
        // meanwhile, and a request sent into an open breaker would count as a failure wave of its own.
        for (let wait = breaker.resumeAt - Date.now(); wait > 0; wait = breaker.resumeAt - Date.now()) await sleep(wait);
        if (aborted) return;
        const askedAt = Date.now();
        const answer = await ask(userId);
        if (aborted) return;
        if (answer.kind !== 'down') {
          breaker.failures = 0;
          if (answer.kind === 'linked') found.push({ userId, yandexUid: answer.yandexUid });
          if (answer.kind === 'skip') {
            report.skipped++;
            log?.warn({ user_id: userId, reason: answer.reason }, 'accounts service answer skipped');
          }
          break;
        }
        // Requests already in flight when the service went down count as one failure, not many.
        if (askedAt < breaker.openedAt) continue;
        breaker.failures++;
        if (breaker.failures >= giveUpAfter) {
          aborted = new AccountsDown(`accounts service down after ${breaker.failures} tries: ${answer.reason}`);
          return;
        }
        const delay = backoffDelay(backoff, breaker.failures);
        breaker.openedAt = Date.now();
        breaker.resumeAt = breaker.openedAt + delay;
        report.pauses++;
        log?.warn({ reason: answer.reason, failures: breaker.failures, pause_ms: delay }, 'accounts service down; backing off');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, users.length) }, worker));
  if (aborted) throw aborted;
  return found;
}

async function applyLinks(deps: RecheckDeps, found: { userId: string; yandexUid: string }[]): Promise<void> {
  if (found.length === 0) return;
  let index = 0;
  const worker = async () => {
    while (index < found.length) {
      const { userId, yandexUid } = found[index++]!;
      await deps.transaction((trx) =>
        applyToActor(trx, { now: deps.now(), settings: deps.settings, channels: deps.channels }, userId, { type: 'linked', yandexUid }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, found.length) }, worker));
}
