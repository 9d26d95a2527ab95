import { expect } from 'chai';
import fc from 'fast-check';
import { backoffDelay } from '../../../src/platform/backoff.ts';
import { parseDuration } from '../../../src/platform/duration.ts';

describe('backoff and durations', () => {
  it('doubles from the first delay up to the cap', () => {
    const b = { delayMs: 1000, maxDelayMs: 10_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(b, n))).to.deep.equal([1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  it('jitter only ever shortens a delay, by at most its fraction', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (n, jitter, r) => {
        const b = { delayMs: 100, maxDelayMs: 60_000, jitter };
        const full = backoffDelay({ ...b, jitter: 0 }, n);
        const d = backoffDelay(b, n, r);
        return d <= full && d >= Math.floor(full * (1 - jitter)) - 1;
      }),
    );
  });

  it('parses durations and rejects what is not one', () => {
    expect(parseDuration('90s')).to.equal(90_000);
    expect(parseDuration('15m')).to.equal(900_000);
    expect(parseDuration('24h')).to.equal(86_400_000);
    expect(parseDuration('30d')).to.equal(2_592_000_000);
    expect(parseDuration('250ms')).to.equal(250);
    expect(parseDuration('1500')).to.equal(1500);
    for (const bad of ['', '1y', '-5s', '1.5h', 'soon', '5 s']) expect(() => parseDuration(bad), bad).to.throw(/bad duration/);
  });
});
