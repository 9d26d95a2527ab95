import { expect } from 'chai';
import { ArgsError, parseArgs, usage } from '../../../scripts/bench/lib/args.ts';

const spec = { name: 'bench:test', options: { 'queue <name>': 'queue to use' } };

describe('bench args', () => {
  it('has defaults', () => {
    const a = parseArgs([], spec);
    expect(a.duration).to.equal(20);
    expect(a.durationMs).to.equal(20_000);
    expect(a.connections).to.equal(64);
    expect(a.rate).to.equal(undefined);
    expect(a.help).to.equal(false);
  });

  it('lets a script choose its own defaults', () => {
    const a = parseArgs([], { name: 'x', defaults: { duration: 10, connections: 8, rate: 500 } });
    expect([a.duration, a.connections, a.rate]).to.deep.equal([10, 8, 500]);
  });

  it('reads --duration, --connections and --rate', () => {
    const a = parseArgs(['--duration', '2.5', '--connections', '16', '--rate', '1000'], spec);
    expect(a.duration).to.equal(2.5);
    expect(a.durationMs).to.equal(2_500);
    expect(a.connections).to.equal(16);
    expect(a.rate).to.equal(1000);
  });

  it('reads free-form --key value and --key=value pairs', () => {
    const a = parseArgs(['--queue', 'seen', '--prefix=bench-1', '--jobs', '20000'], spec);
    expect(a.str('queue', 'x')).to.equal('seen');
    expect(a.str('prefix', 'x')).to.equal('bench-1');
    expect(a.num('jobs', 1)).to.equal(20_000);
    expect(a.str('missing', 'fallback')).to.equal('fallback');
    expect(a.num('missing', 7)).to.equal(7);
    expect(a.values).to.deep.equal({ queue: 'seen', prefix: 'bench-1', jobs: '20000' });
  });

  it('reads bare flags, before another option or at the end', () => {
    const a = parseArgs(['--verbose', '--duration', '3', '--two-processes'], spec);
    expect(a.flag('verbose')).to.equal(true);
    expect(a.flag('two-processes')).to.equal(true);
    expect(a.flag('absent')).to.equal(false);
    expect(parseArgs(['--verbose', 'no'], spec).flag('verbose')).to.equal(false);
    expect(a.duration).to.equal(3);
  });

  it('reads declared options through node:util parseArgs: values, flags, -h, a missing value', () => {
    const declared = { name: 'x', options: { 'queue <name>': 'queue', 'skip-two': 'flag' } };
    const a = parseArgs(['--queue', '-q-', '--skip-two', '-h'], declared);
    expect(a.str('queue', '')).to.equal('-q-');
    expect(a.flag('skip-two')).to.equal(true);
    expect(a.help).to.equal(true);
    expect(() => parseArgs(['--queue'], declared)).to.throw(ArgsError, /--queue needs a value/);
    expect(() => parseArgs(['-z'], declared)).to.throw(ArgsError, /unexpected argument "-z"/);
  });

  it('takes a negative number as a value, not as a flag', () => {
    expect(parseArgs(['--offset', '-5'], spec).num('offset', 0)).to.equal(-5);
  });

  it('recognizes --help', () => {
    expect(parseArgs(['--duration', '5', '--help'], spec).help).to.equal(true);
    expect(usage(spec)).to.contain('--duration <seconds>').and.contain('--queue <name>').and.contain('bench:test');
  });

  it('rejects bad numbers and stray arguments', () => {
    expect(() => parseArgs(['--duration', 'abc'], spec)).to.throw(ArgsError, /--duration must be a number/);
    expect(() => parseArgs(['--duration', '0'], spec)).to.throw(ArgsError, /greater than 0/);
    expect(() => parseArgs(['--connections', '-3'], spec)).to.throw(ArgsError);
    expect(() => parseArgs(['--connections', '2.5'], spec)).to.throw(ArgsError, /integer/);
    expect(() => parseArgs(['--rate', ''], spec)).to.throw(ArgsError);
    expect(() => parseArgs(['seen'], spec)).to.throw(ArgsError, /unexpected argument/);
    expect(() => parseArgs(['--jobs', 'many'], spec).num('jobs', 1)).to.throw(ArgsError);
  });
});
