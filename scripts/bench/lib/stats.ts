import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/**
 * Latency, throughput and memory figures whose memory stays flat however long a run lasts:
 * latencies go into an HdrHistogram (hdr-histogram-js, 3 significant digits), not an array of samples.
 */

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Wire form, so a child process can ship its histogram to the parent in one line. */
export interface HistogramJson {
  /** The HdrHistogram, compressed and base64-encoded (the format other HdrHistogram tools read). */
  hdr: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

// Recorded in microseconds: sub-millisecond latencies stay apart; resizes itself for huge values.
const UNITS_PER_MS = 1000;
const newHdr = (): Histogram => build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true, bitBucketSize: 64, useWebAssembly: false });

/** Latency histogram, in milliseconds; exact count, sum, min and max kept beside it. */
export class LatencyHistogram {
  private hdr = newHdr();
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = -Infinity;

  record(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const v = ms < 0 ? 0 : ms;
    this.hdr.recordValue(Math.round(v * UNITS_PER_MS));
    this.n += 1;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.n;
  }

  /** Percentile (0 < p ≤ 100), clamped to the exact min and max. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const value = this.hdr.getValueAtPercentile(Math.min(Math.max(p, 0), 100)) / UNITS_PER_MS;
    return Math.min(this.hi, Math.max(this.lo, value));
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 };
    return {
      count: this.n,
      mean: this.sum / this.n,
      min: this.lo,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.hi,
    };
  }

  reset(): void {
    this.hdr.reset();
    this.n = 0;
    this.sum = 0;
    this.lo = Infinity;
    this.hi = -Infinity;
  }

  merge(other: LatencyHistogram | HistogramJson): this {
    if (other instanceof LatencyHistogram) {
      this.hdr.add(other.hdr);
      this.absorb(other.n, other.sum, other.lo, other.hi);
    } else if (other.count > 0) {
      this.hdr.add(decodeFromCompressedBase64(other.hdr, 64, false));
      this.absorb(other.count, other.sum, other.min, other.max);
    }
    return this;
  }

  private absorb(count: number, sum: number, min: number, max: number): void {
    if (count === 0) return;
    this.n += count;
    this.sum += sum;
    this.lo = Math.min(this.lo, min);
    this.hi = Math.max(this.hi, max);
  }

  toJSON(): HistogramJson {
    return { hdr: encodeIntoCompressedBase64(this.hdr), count: this.n, sum: this.sum, min: this.n ? this.lo : 0, max: this.n ? this.hi : 0 };
  }

  static fromJSON(json: HistogramJson): LatencyHistogram {
    return new LatencyHistogram().merge(json);
  }
}

/** Counts events; rate() over the whole run, recentRate() over the last few seconds for a progress bar. */
export class Throughput {
  private total = 0;
  private startedAt = performance.now();
  private stoppedAt: number | undefined;
  private window: Array<[t: number, total: number]> = [];

  add(n = 1): void {
    this.total += n;
  }

  get count(): number {
    return this.total;
  }

  /** Restarts the clock and the count (after a warm-up, say). */
  reset(): void {
    this.total = 0;
    this.startedAt = performance.now();
    this.stoppedAt = undefined;
    this.window = [];
  }

  stop(): void {
    this.stoppedAt ??= performance.now();
  }

  elapsedMs(): number {
    return (this.stoppedAt ?? performance.now()) - this.startedAt;
  }

  rate(): number {
    const s = this.elapsedMs() / 1000;
    return s > 0 ? this.total / s : 0;
  }

  recentRate(windowMs = 3_000): number {
    const t = performance.now();
    this.window.push([t, this.total]);
    while (this.window.length > 2 && t - this.window[0]![0] > windowMs) this.window.shift();
    const [t0, n0] = this.window[0]!;
    return t > t0 ? ((this.total - n0) * 1000) / (t - t0) : 0;
  }
}

export interface MemoryReading {
  rss: number;
  heapUsed: number;
}

export interface MemorySeries {
  startMB: number;
  endMB: number;
  maxMB: number;
  /** Least-squares slope over the run; a leak shows as a steady positive slope. */
  slopeMBPerMin: number;
}

export interface MemoryReport {
  samples: number;
  seconds: number;
  rss: MemorySeries;
  heapUsed: MemorySeries;
}

const MB = 1024 * 1024;

/**
 * Samples RSS and heapUsed every interval. The source defaults to this process; pass a child
 * handle's memory() to watch the server under test instead.
 */
export class MemorySampler {
  private readonly t: number[] = [];
  private readonly rss: number[] = [];
  private readonly heap: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private pending = false;

  constructor(
    private readonly source: () => MemoryReading | Promise<MemoryReading> = () => process.memoryUsage(),
    private readonly intervalMs = 1_000,
  ) {}

  start(): this {
    this.startedAt = performance.now();
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  async stop(): Promise<MemoryReport> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sample();
    return this.report();
  }

  report(): MemoryReport {
    const seconds = this.t.length ? this.t[this.t.length - 1]! - this.t[0]! : 0;
    return { samples: this.t.length, seconds, rss: series(this.t, this.rss), heapUsed: series(this.t, this.heap) };
  }

  private async sample(): Promise<void> {
    // A slow source (a busy child) must not pile up readings.
    if (this.pending) return;
    this.pending = true;
    try {
      const r = await this.source();
      this.t.push((performance.now() - this.startedAt) / 1000);
      this.rss.push(r.rss / MB);
      this.heap.push(r.heapUsed / MB);
    } catch {
      // A child that is exiting cannot answer; the series simply ends there.
    } finally {
      this.pending = false;
    }
  }
}

function series(t: number[], v: number[]): MemorySeries {
  if (v.length === 0) return { startMB: 0, endMB: 0, maxMB: 0, slopeMBPerMin: 0 };
  return { startMB: v[0]!, endMB: v[v.length - 1]!, maxMB: Math.max(...v), slopeMBPerMin: slope(t, v) * 60 };
}

/** Least-squares slope of v over t (units of v per unit of t); 0 with fewer than two points. */
export function slope(t: readonly number[], v: readonly number[]): number {
  const n = Math.min(t.length, v.length);
  if (n < 2) return 0;
  let st = 0;
  let sv = 0;
  for (let i = 0; i < n; i++) {
    st += t[i]!;
    sv += v[i]!;
  }
  const mt = st / n;
  const mv = sv / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (t[i]! - mt) * (v[i]! - mv);
    den += (t[i]! - mt) ** 2;
  }
  return den > 0 ? num / den : 0;
}

/** The middle value (the upper middle of an even count); NaN for none. */
export function median(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

/**
 * Ratios of alternating runs, A₀ B₀ A₁ B₁ … Aₙ: each B against the mean of the A before and after
 * it. On a machine whose speed drifts by tens of percent within minutes, the mean of the two
 * neighbours follows the drift; the higher of them would bias every ratio low by about half
 * the spread.
 */
export function alternatingRatios(ceilings: readonly number[], runs: readonly number[]): number[] {
  if (ceilings.length !== runs.length + 1) throw new Error(`alternating runs need one ceiling more than runs: ${ceilings.length} and ${runs.length}`);
  return runs.map((run, i) => {
    const ceiling = (ceilings[i]! + ceilings[i + 1]!) / 2;
    return ceiling > 0 ? Math.round((run / ceiling) * 1000) / 1000 : 0;
  });
}
