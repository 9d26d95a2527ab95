import { BadRequest } from '../../platform/errors.ts';

/** The largest amount one API call may move: 1,000,000.00 in minor units. */
export const MAX_AMOUNT_MINOR = 100_000_000;

// Digits only, no sign, no exponent, no leading zeros or whitespace, at most two fraction digits,
// at most seven integer digits (anything longer is over the limit anyway).
const DECIMAL = /^(0|[1-9]\d{0,6})(?:\.(\d{1,2}))?$/;

const BAD_AMOUNT = 'sum must be a number or decimal string, greater than 0, with at most two fraction digits, at most 1000000.00';

/**
 * Parses an API `sum` (a JSON number or a decimal string) into minor units (cents).
 * Numbers go through their shortest decimal form (String(n)), so 15.5 is "15.5" and 0.1 + 0.2
 * ("0.30000000000000004") is refused; floats are never multiplied.
 */
export function parseMoney(input: unknown): number {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw badAmount();
    text = String(input);
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw badAmount();
  }
  const match = DECIMAL.exec(text);
  if (!match) throw badAmount();
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  const minor = whole * 100 + fraction;
  if (minor <= 0 || minor > MAX_AMOUNT_MINOR) throw badAmount();
  return minor;
}

/** Minor units to the API's decimal string: 1550 → "15.50", -5 → "-0.05". Exact for any integer. */
export function formatMoney(minor: number | bigint): string {
  if (typeof minor === 'number' && !Number.isSafeInteger(minor)) {
    throw new TypeError(`formatMoney needs an integer number of minor units, got ${minor}`);
  }
  const value = BigInt(minor);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${abs / 100n}.${cents}`;
}

function badAmount(): BadRequest {
  return new BadRequest(BAD_AMOUNT, 'bad_amount');
}
