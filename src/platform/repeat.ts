import type { Logger } from 'pino';

export interface Repeating {
  stop(): void;
}

/**
 * Runs fn every `everyMs` after the previous run settles (never two at once), logging a failure
 * and trying again next time. stop() ends the loop; a run under way finishes on its own.
 */
export function repeatEvery(everyMs: number, fn: () => Promise<unknown>, log: Logger, what: string): Repeating {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    void fn()
      .catch((err: unknown) => log.warn({ err }, `${what} failed; will retry`))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, everyMs);
      });
  };
  timer = setTimeout(tick, everyMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
