import { expect } from 'chai';
import { LatencyHistogram, MemorySampler, slope, Throughput } from '../../../scripts/bench/lib/stats.ts';

/** HdrHistogram with 3 significant digits: 0.1 % relative error; 1.5 % keeps the old bound. */
const close = (actual: number, expected: number): void => {
  expect(actual, `${actual} vs ${expected}`).to.be.closeTo(expected, Math.max(expected * 0.015, 0.0015));
};

describe('bench stats', () => {
  describe('LatencyHistogram', () => {
    it('gives nearest-rank percentiles of 1..1000 ms within 1 %', () => {
      const h = new LatencyHistogram();
      // Shuffled order: the result must not depend on arrival order.
      const values = Array.from({ length: 1000 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      for (const v of values) h.record(v);
      const s = h.summary();
      expect(s.count).to.equal(1000);
      close(s.p50, 500);
      close(s.p90, 900);
      close(s.p99, 990);
      expect(s.max).to.equal(1000);
      expect(s.min).to.equal(1);
      expect(s.mean).to.equal(500.5);
    });

    it('keeps sub-millisecond latencies apart', () => {
      const h = new LatencyHistogram();
      for (let i = 0; i < 90; i++) h.record(0.2);
      for (let i = 0; i < 10; i++) h.record(0.8);
      close(h.percentile(50), 0.2);
      close(h.percentile(90), 0.2);
      close(h.percentile(91), 0.8);
      close(h.percentile(99), 0.8);
    });

    it('finds a rare slow outlier at p99 but not at p50', () => {
      const h = new LatencyHistogram();
      for (let i = 0; i < 985; i++) h.record(1);
      for (let i = 0; i < 15; i++) h.record(250);
      close(h.percentile(50), 1);
      close(h.percentile(99), 250);
      expect(h.summary().max).to.equal(250);
    });

    it('never reports beyond the exact min and max', () => {
      const h = new LatencyHistogram();
      h.record(3.3333);
      expect(h.percentile(0.1)).to.equal(3.3333);
      expect(h.percentile(100)).to.equal(3.3333);
    });

    it('answers zeros when empty and ignores non-finite values', () => {
      const h = new LatencyHistogram();
      h.record(Number.NaN);
      h.record(Number.POSITIVE_INFINITY);
      expect(h.summary()).to.deep.equal({ count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, max: 0 });
    });

    it('clamps negative latencies (clock skew between processes) to 0', () => {
      const h = new LatencyHistogram();
      h.record(-2);
      h.record(4);
      expect(h.summary().min).to.equal(0);
      expect(h.percentile(50)).to.be.closeTo(0, 0.001);
    });

    it('keeps huge values in the last bucket instead of losing them', () => {
      const h = new LatencyHistogram();
      h.record(5e9);
      expect(h.count).to.equal(1);
      expect(h.percentile(50)).to.equal(5e9);
    });

    it('merges and round-trips through JSON without changing the figures', () => {
      const a = new LatencyHistogram();
      const b = new LatencyHistogram();
      for (let i = 1; i <= 500; i++) a.record(i);
      for (let i = 501; i <= 1000; i++) b.record(i);
      const merged = LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<LatencyHistogram['toJSON']>).merge(b);
      const s = merged.summary();
      expect(s.count).to.equal(1000);
      expect(s.min).to.equal(1);
      expect(s.max).to.equal(1000);
      close(s.p50, 500);
      close(s.p99, 990);
    });

    it('stays the same size however many samples it holds', () => {
      const small = new LatencyHistogram();
      for (let i = 0; i < 1_000; i++) small.record((i % 5000) / 10);
      const h = new LatencyHistogram();
      for (let i = 0; i < 200_000; i++) h.record((i % 5000) / 10);
      // The same distinct values: the wire form grows with the buckets used, not with the samples.
      expect(h.toJSON().hdr.length).to.be.below(small.toJSON().hdr.length * 2);
      expect(h.count).to.equal(200_000);
    });

    it('reset() starts a new window', () => {
      const h = new LatencyHistogram();
      h.record(10);
      h.reset();
      h.record(2);
      expect(h.summary()).to.include({ count: 1, min: 2, max: 2 });
    });
  });

  describe('slope', () => {
    it('is the least-squares slope', () => {
      expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).to.equal(2);
      expect(slope([0, 1, 2, 3], [5, 5, 5, 5])).to.equal(0);
      // Noise around a line still yields the line's slope.
      expect(slope([0, 1, 2, 3, 4], [1, 3, 2, 4, 3])).to.be.closeTo(0.5, 1e-9);
    });

    it('is 0 with fewer than two points', () => {
      expect(slope([], [])).to.equal(0);
      expect(slope([1], [7])).to.equal(0);
    });
  });

  describe('MemorySampler', () => {
    it('reports start, end, max and a slope in MB per minute', async () => {
      const MB = 1024 * 1024;
      let rss = 100 * MB;
      const sampler = new MemorySampler(() => {
        rss += MB;
        return { rss, heapUsed: 50 * MB };
      }, 20).start();
      await new Promise((r) => setTimeout(r, 130));
      const report = await sampler.stop();
      expect(report.samples).to.be.at.least(4);
      expect(report.rss.startMB).to.equal(101);
      expect(report.rss.endMB).to.equal(100 + report.samples);
      expect(report.rss.maxMB).to.equal(report.rss.endMB);
      // One MB per ~20 ms sample is roughly 3,000 MB/min: a leak, clearly positive.
      expect(report.rss.slopeMBPerMin).to.be.above(500);
      expect(report.heapUsed.slopeMBPerMin).to.equal(0);
    });

    it('tolerates a source that fails (a child exiting)', async () => {
      const sampler = new MemorySampler(() => Promise.reject(new Error('gone')), 10).start();
      await new Promise((r) => setTimeout(r, 30));
      const report = await sampler.stop();
      expect(report.samples).to.equal(0);
      expect(report.rss.slopeMBPerMin).to.equal(0);
    });
  });

  describe('Throughput', () => {
    it('counts events per second of elapsed time', async () => {
      const t = new Throughput();
      t.add(50);
      t.add();
      await new Promise((r) => setTimeout(r, 50));
      t.stop();
      expect(t.count).to.equal(51);
      expect(t.rate()).to.be.within(51 / 0.2, 51 / 0.045);
      t.reset();
      expect(t.count).to.equal(0);
    });
  });
});
