const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "90s", "15m", "24h", "30d", "250ms" (or a bare number of milliseconds) into milliseconds. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 0) throw new Error(`bad duration: ${text}`);
    return text;
  }
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`bad duration "${text}" (use e.g. 90s, 15m, 24h, 30d)`);
  const value = Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(value)) throw new Error(`duration too large: ${text}`);
  return value;
}
