import { expect } from 'chai';
import { backoffDelay, type Backoff } from '../../../src/platform/backoff.ts';
import { continuedBackoff } from '../../../src/domain/notify/deliverSeenBatch.ts';

describe("a fact's own job continues its batch's retry schedule", () => {
  const schedules: Backoff[] = [
    { delayMs: 1000, maxDelayMs: 600_000, jitter: 0 },
    { delayMs: 100, maxDelayMs: 400, jitter: 0 },
    { delayMs: 7, maxDelayMs: 7, jitter: 0 },
    { delayMs: 250, maxDelayMs: 1_000_000_000, jitter: 0 },
  ];

  it('waits before its n-th retry what the fact alone would have waited before retry n + 1', () => {
    for (const b of schedules) {
      const continued = continuedBackoff(b, 1);
      for (let n = 1; n <= 60; n++) expect(backoffDelay(continued, n), `${JSON.stringify(b)} n=${n}`).to.equal(backoffDelay(b, n + 1));
    }
  });

  it('keeps the jitter: the same random draw gives the same delay', () => {
    const b = { delayMs: 1000, maxDelayMs: 60_000, jitter: 0.3 };
    for (const r of [0, 0.25, 0.999]) for (let n = 1; n <= 10; n++) expect(backoffDelay(continuedBackoff(b, 1), n, r)).to.equal(backoffDelay(b, n + 1, r));
  });
});
