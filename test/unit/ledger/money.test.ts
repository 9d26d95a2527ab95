import { expect } from 'chai';
import fc from 'fast-check';
import { BadRequest } from '../../../src/platform/errors.ts';
import { formatMoney, MAX_AMOUNT_MINOR, parseMoney } from '../../../src/domain/ledger/money.ts';

function rejects(input: unknown): void {
  let caught: unknown;
  try {
    parseMoney(input);
  } catch (err) {
    caught = err;
  }
  expect(caught, `parseMoney(${typeof input === 'bigint' ? `${input}n` : JSON.stringify(input) ?? String(input)})`).to.be.instanceOf(BadRequest);
  expect((caught as BadRequest).code).to.equal('bad_amount');
  expect((caught as BadRequest).status).to.equal(400);
}

describe('ledger money', () => {
  describe('parseMoney', () => {
    it('reads numbers and decimal strings into minor units', () => {
      expect(parseMoney(15)).to.equal(1500);
      expect(parseMoney(15.5)).to.equal(1550);
      expect(parseMoney(15.55)).to.equal(1555);
      expect(parseMoney(0.01)).to.equal(1);
      expect(parseMoney(0.1)).to.equal(10);
      expect(parseMoney(1.15)).to.equal(115); // 1.15 * 100 is 114.99999999999999 as floats
      expect(parseMoney(4.35)).to.equal(435); // 4.35 * 100 is 434.99999999999994
      expect(parseMoney('15')).to.equal(1500);
      expect(parseMoney('15.5')).to.equal(1550);
      expect(parseMoney('15.50')).to.equal(1550);
      expect(parseMoney('0.05')).to.equal(5);
      expect(parseMoney('1000000')).to.equal(MAX_AMOUNT_MINOR);
      expect(parseMoney(1_000_000)).to.equal(MAX_AMOUNT_MINOR);
      expect(parseMoney('1000000.00')).to.equal(MAX_AMOUNT_MINOR);
    });

    it('rejects non-positive amounts', () => {
      for (const input of [-1, 0, -0, '0', '0.00', '-1', '-0.01', -0.01]) rejects(input);
    });

    it('rejects more than two fraction digits, including float noise', () => {
      for (const input of ['15.555', 15.555, 0.1 + 0.2, 0.001, '0.001', 1e-7]) rejects(input);
    });

    it('rejects amounts over 1,000,000.00', () => {
      for (const input of [1_000_000.01, '1000000.01', 1e7, '10000000', 1e21, 1e308, Number.MAX_SAFE_INTEGER]) rejects(input);
    });

    it('rejects anything that is not a plain decimal', () => {
      const inputs: unknown[] = [
        'NaN', NaN, Infinity, -Infinity, 'Infinity', true, false, null, undefined, '', ' ', '1e3', '0x10', ' 5', '5 ',
        '5.', '.5', '+5', '05', '00.5', '1,5', '1_000', '５', '٥', '5.0.0', 10n, [5], { sum: 5 }, '1000000000000000000000',
      ];
      for (const input of inputs) rejects(input);
    });

    it('round-trips every valid amount through formatMoney (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: MAX_AMOUNT_MINOR }), (minor) => {
          const text = formatMoney(minor);
          expect(parseMoney(text)).to.equal(minor);
          // As a JSON number it must round-trip too: the number's shortest form is the decimal.
          expect(parseMoney(JSON.parse(text) as number)).to.equal(minor);
        }),
        { numRuns: 2000 },
      );
    });

    it('either parses a number exactly or refuses it (property)', () => {
      fc.assert(
        fc.property(fc.double({ noNaN: false }), (n) => {
          let minor: number | undefined;
          try {
            minor = parseMoney(n);
          } catch (err) {
            expect(err).to.be.instanceOf(BadRequest);
            return;
          }
          expect(Number.isSafeInteger(minor)).to.equal(true);
          expect(minor).to.be.within(1, MAX_AMOUNT_MINOR);
          expect(minor / 100).to.equal(n); // the accepted float is exactly the decimal it stands for
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('formatMoney', () => {
    it('prints minor units as a two-decimal string', () => {
      expect(formatMoney(1550)).to.equal('15.50');
      expect(formatMoney(1)).to.equal('0.01');
      expect(formatMoney(0)).to.equal('0.00');
      expect(formatMoney(100)).to.equal('1.00');
      expect(formatMoney(-5)).to.equal('-0.05');
      expect(formatMoney(-123456)).to.equal('-1234.56');
      expect(formatMoney(MAX_AMOUNT_MINOR)).to.equal('1000000.00');
      expect(formatMoney(9007199254740993n)).to.equal('90071992547409.93');
    });

    it('refuses a fractional or unsafe number', () => {
      expect(() => formatMoney(1.5)).to.throw(TypeError);
      expect(() => formatMoney(2 ** 60)).to.throw(TypeError);
    });
  });
});
