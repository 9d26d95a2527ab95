import { expect } from 'chai';
import { fmt, ratio, renderTable, resultLine } from '../../../scripts/bench/lib/table.ts';

describe('bench table', () => {
  it('renders an aligned markdown table, numbers right-aligned', () => {
    const out = renderTable({ columns: ['what', 'req/s'], rows: [['koa hello', 26_400], ['koa + add', 950.4]] });
    expect(out.split('\n')).to.deep.equal([
      '| what      |  req/s |',
      '| --------- | -----: |',
      '| koa hello | 26,400 |',
      '| koa + add |    950 |',
    ]);
  });

  it('formats figures and guards ratios against a zero ceiling', () => {
    expect(fmt(26_412.7)).to.equal('26,413');
    expect(fmt(0.7123)).to.equal('0.712');
    expect(fmt(12.345)).to.equal('12.3');
    expect(ratio(7, 10)).to.equal(0.7);
    expect(ratio(2, 3)).to.equal(0.667);
    expect(ratio(5, 0)).to.equal(0);
  });

  it('ends with one line of JSON holding bench, machine, figures and ratios', () => {
    const machine = { cpus: 2, cpuModel: 'x', memGiB: 24, node: 'v20', load1: 0 };
    const line = resultLine({ bench: 'seen', machine, table: { columns: [], rows: [] }, figures: { rps: 1 }, ratios: { api: 0.8 } });
    expect(line).not.to.contain('\n');
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).to.include.keys('bench', 'machine', 'figures', 'ratios');
    expect(parsed.ratios).to.deep.equal({ api: 0.8 });
  });
});
