import { CronExpressionParser } from 'cron-parser';

// The same parser (and major version) BullMQ's job schedulers use, so a pattern accepted here is
// one the scheduler can run.
const FIELDS = /^\S+( \S+){4,5}$/;

/**
 * Why a cron pattern cannot run, or null when it can. Five fields, or six with a leading seconds
 * field (`*\/2 * * * * *`); `tz` is the zone the scheduler evaluates it in.
 */
export function cronProblem(pattern: string, tz = 'UTC'): string | null {
  if (!FIELDS.test(pattern)) return `"${pattern}" is not a cron pattern with 5 fields (or 6 with leading seconds)`;
  try {
    CronExpressionParser.parse(pattern, { tz }).next();
    return null;
  } catch (err) {
    return `"${pattern}" is not a valid cron pattern: ${(err as Error).message}`;
  }
}

/** True when Intl knows the zone (an IANA name such as Europe/Moscow, or UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
