import { expect } from 'chai';
import { cpuBusy, leastDisturbed } from '../../../scripts/bench/lib/machine.ts';

describe('bench machine', () => {
  it('keeps an undisturbed first result without measuring again', async () => {
    let runs = 0;
    const r = await leastDisturbed(async () => ({ rps: 100, others: 0.1, run: ++runs }), (x) => x.others);
    expect(r.run).to.equal(1);
    expect(runs).to.equal(1);
  });

  it('measures again while disturbed and keeps the least disturbed result', async () => {
    const others = [0.5, 0.9, 0.4];
    let runs = 0;
    const retried: number[] = [];
    const r = await leastDisturbed(async () => ({ others: others[runs++]!, run: runs }), (x) => x.others, {
      retries: 2,
      onRetry: (attempt, o) => retried.push(attempt * 10 + o),
    });
    expect(runs).to.equal(3);
    expect(r.run).to.equal(3);
    // The retry is told about the attempt just made, not the best so far.
    expect(retried).to.deep.equal([10.5, 20.9]);
  });

  it('stops as soon as a run is quiet enough', async () => {
    const others = [0.9, 0.1, 0.0];
    let runs = 0;
    const r = await leastDisturbed(async () => ({ others: others[runs++]! }), (x) => x.others, { retries: 5 });
    expect(runs).to.equal(2);
    expect(r.others).to.equal(0.1);
  });

  it('reads how busy the cores are as a fraction', async () => {
    const busy = await cpuBusy(50);
    expect(busy).to.be.within(0, 1);
  });
});
