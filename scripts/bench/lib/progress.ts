/**
 * Progress on stderr, so stdout carries only the table and the JSON line. A redrawn bar on a
 * terminal; one line per phase otherwise (CI logs and pipes should not fill with carriage returns).
 */

export interface PhaseOptions {
  /** Planned length; the bar fills against it. Omit for open-ended phases (drains). */
  totalMs?: number;
  /** Live counter shown beside the bar, e.g. () => load.requests. */
  counter?: () => number;
  /** Unit printed after the counter. */
  unit?: string;
}

export interface Phase {
  /** Ends the phase; `summary` is appended to the final line. */
  done(summary?: string): void;
}

const BAR = 24;
const REDRAW_MS = 200;

export function startPhase(name: string, opts: PhaseOptions = {}, stream: NodeJS.WriteStream = process.stderr): Phase {
  const started = performance.now();
  const tty = stream.isTTY === true;
  const counterText = (): string => {
    if (!opts.counter) return '';
    const n = opts.counter();
    const s = (performance.now() - started) / 1000;
    const rate = s > 0 ? n / s : 0;
    return `  ${Math.round(n).toLocaleString('en-US')} ${opts.unit ?? ''} (${Math.round(rate).toLocaleString('en-US')}/s)`;
  };
  const line = (): string => {
    const ms = performance.now() - started;
    const total = opts.totalMs;
    const frac = total ? Math.min(1, ms / total) : 0;
    const bar = total ? `[${'#'.repeat(Math.round(frac * BAR)).padEnd(BAR, '.')}] ` : '';
    const time = total ? `${(ms / 1000).toFixed(1)}s/${(total / 1000).toFixed(0)}s` : `${(ms / 1000).toFixed(1)}s`;
    return `${bar}${name} ${time}${counterText()}`;
  };

  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    timer = setInterval(() => stream.write(`\r\x1b[2K${line()}`), REDRAW_MS);
    timer.unref();
  }

  let finished = false;
  return {
    done(summary?: string) {
      if (finished) return;
      finished = true;
      if (timer) clearInterval(timer);
      const tail = summary ? `  ${summary}` : '';
      stream.write(`${tty ? '\r\x1b[2K' : ''}✓ ${name} ${((performance.now() - started) / 1000).toFixed(1)}s${counterText()}${tail}\n`);
    },
  };
}

/** Runs `fn` as a phase and ends it however `fn` ends. */
export async function phase<T>(name: string, opts: PhaseOptions, fn: () => Promise<T>): Promise<T> {
  const p = startPhase(name, opts);
  try {
    const result = await fn();
    p.done();
    return result;
  } catch (err) {
    p.done('failed');
    throw err;
  }
}

/** A note on stderr between phases. */
export function note(text: string): void {
  process.stderr.write(`  ${text}\n`);
}
