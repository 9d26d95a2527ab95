/**
 * Progress on stderr, so stdout carries only the table and the JSON line. A redrawn bar on a
 * terminal; one line per phase otherwise (CI logs and pipes should not fill with carriage returns).
 */

import { SingleBar } from 'cli-progress';

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

const REDRAW_MS = 200;

export function startPhase(name: string, opts: PhaseOptions = {}, stream: NodeJS.WriteStream = process.stderr): Phase {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const tty = stream.isTTY === true;
  const counterText = (): string => {
    if (!opts.counter) return '';
    const n = opts.counter();
    const s = elapsed() / 1000;
    const rate = s > 0 ? n / s : 0;
    return `  ${Math.round(n).toLocaleString('en-US')} ${opts.unit ?? ''} (${Math.round(rate).toLocaleString('en-US')}/s)`;
  };
  const timeText = (): string => (opts.totalMs ? `${(elapsed() / 1000).toFixed(1)}s/${(opts.totalMs / 1000).toFixed(0)}s` : `${(elapsed() / 1000).toFixed(1)}s`);

  // cli-progress draws on a terminal only; elsewhere the phase's one final line is all there is.
  let bar: SingleBar | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    bar = new SingleBar({
      stream,
      format: `${opts.totalMs ? '[{bar}] ' : ''}{name} {time}{counter}`,
      barsize: 24,
      barCompleteChar: '#',
      barIncompleteChar: '.',
      fps: 1000 / REDRAW_MS,
      clearOnComplete: true,
      hideCursor: false,
    });
    bar.start(opts.totalMs ?? 1, 0, { name, time: timeText(), counter: counterText() });
    timer = setInterval(() => bar!.update(Math.min(elapsed(), opts.totalMs ?? 0), { time: timeText(), counter: counterText() }), REDRAW_MS);
    timer.unref();
  }

  let finished = false;
  return {
    done(summary?: string) {
      if (finished) return;
      finished = true;
      if (timer) clearInterval(timer);
      bar?.stop();
      const tail = summary ? `  ${summary}` : '';
      stream.write(`✓ ${name} ${(elapsed() / 1000).toFixed(1)}s${counterText()}${tail}\n`);
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
