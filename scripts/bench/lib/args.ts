/**
 * Command-line options shared by every bench script: `--duration <s>`, `--connections <n>`,
 * `--rate <n>`, and any `--key value` (or `--key=value`) the script wants.
 */

import { parseArgs as utilParseArgs } from 'node:util';

export interface ArgsSpec {
  /** Script name, shown by --help. */
  name: string;
  summary?: string;
  defaults?: { duration?: number; connections?: number; rate?: number };
  /** Extra options, documented by --help: key → description (with its default if it has one). */
  options?: Record<string, string>;
}

export interface BenchArgs {
  help: boolean;
  /** Seconds each measured phase lasts. */
  duration: number;
  durationMs: number;
  connections: number;
  /** Fixed request rate for open-loop phases; undefined means "derive it" (e.g. half of the max). */
  rate: number | undefined;
  /** Every --key value pair, duration/connections/rate included, as given. */
  values: Readonly<Record<string, string>>;
  str(key: string, fallback: string): string;
  num(key: string, fallback: number): number;
  /** True for `--key`, `--key true|1|yes`; false for `--key false|0|no` or when absent. */
  flag(key: string): boolean;
}

export class ArgsError extends Error {
  override name = 'ArgsError';
}

const DEFAULTS = { duration: 20, connections: 64 };

/** The options a spec declares: `name <value>` takes a value, a bare `name` is a flag. */
function declared(spec: ArgsSpec): Record<string, { type: 'string' | 'boolean'; short?: string }> {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    rate: { type: 'string' },
  };
  for (const key of Object.keys(spec.options ?? {})) {
    const [name] = key.split(/\s+/);
    options[name!] = { type: key.includes('<') ? 'string' : 'boolean' };
  }
  return options;
}

const NEGATIVE = /^-\d/;

/**
 * node:util parseArgs over the declared options. Undeclared `--key value` pairs are kept too (the
 * scripts start copies of themselves with internal options): such a key takes the next argument
 * as its value unless that is another option (a negative number is a value).
 */
export function parseArgs(argv: readonly string[], spec: ArgsSpec): BenchArgs {
  const options = declared(spec);
  const { tokens } = utilParseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string> = {};
  let help = false;
  const consumed = new Set<number>();
  for (const token of tokens) {
    if (consumed.has(token.index)) continue;
    if (token.kind === 'option-terminator') throw new ArgsError('unexpected argument "--"');
    if (token.kind === 'positional') throw new ArgsError(`unexpected argument "${token.value}"`);
    if (token.name === 'help') {
      help = true;
      continue;
    }
    const known = options[token.name];
    if (known?.type === 'string') {
      if (token.value === undefined) throw new ArgsError(`--${token.name} needs a value`);
      values[token.name] = token.value;
    } else if (known || token.inlineValue) {
      values[token.name] = token.value ?? 'true';
    } else if (!token.rawName.startsWith('--')) {
      throw new ArgsError(`unexpected argument "${argv[token.index]}"`);
    } else {
      const next = argv[token.index + 1];
      const isValue = next !== undefined && (!next.startsWith('-') || NEGATIVE.test(next));
      values[token.name] = isValue ? next : 'true';
      if (isValue) consumed.add(token.index + 1);
    }
  }

  const num = (key: string, fallback: number): number => {
    const raw = values[key];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ArgsError(`--${key} must be a number, got "${raw}"`);
    return n;
  };
  const positive = (key: string, fallback: number | undefined): number | undefined => {
    if (values[key] === undefined) return fallback;
    const n = num(key, 0);
    if (n <= 0) throw new ArgsError(`--${key} must be greater than 0, got "${values[key]}"`);
    return n;
  };

  const duration = positive('duration', spec.defaults?.duration ?? DEFAULTS.duration)!;
  const connections = positive('connections', spec.defaults?.connections ?? DEFAULTS.connections)!;
  if (!Number.isInteger(connections)) throw new ArgsError(`--connections must be an integer, got "${values.connections}"`);
  const rate = positive('rate', spec.defaults?.rate);

  return {
    help,
    duration,
    durationMs: Math.round(duration * 1000),
    connections,
    rate,
    values,
    str: (key, fallback) => values[key] ?? fallback,
    num,
    flag: (key) => {
      const raw = values[key];
      if (raw === undefined) return false;
      return !/^(false|0|no|off)$/i.test(raw);
    },
  };
}

export function usage(spec: ArgsSpec): string {
  const d = { ...DEFAULTS, ...spec.defaults };
  const lines = [
    `usage: ${spec.name} [options]`,
    ...(spec.summary ? ['', spec.summary] : []),
    '',
    'options:',
    `  --duration <seconds>   length of each measured phase (default ${d.duration})`,
    `  --connections <n>      concurrent HTTP connections for closed-loop load (default ${d.connections})`,
    `  --rate <n>             fixed rate for open-loop phases${d.rate ? ` (default ${d.rate})` : ' (default: half of the measured max)'}`,
  ];
  for (const [key, text] of Object.entries(spec.options ?? {})) lines.push(`  --${key.padEnd(21)}${text}`);
  lines.push('  --help                 this text');
  return lines.join('\n');
}

/** parseArgs on process.argv: prints usage and exits 0 on --help, prints the error and exits 2 on bad input. */
export function cliArgs(spec: ArgsSpec, argv: readonly string[] = process.argv.slice(2)): BenchArgs {
  try {
    const args = parseArgs(argv, spec);
    if (args.help) {
      process.stdout.write(usage(spec) + '\n');
      process.exit(0);
    }
    return args;
  } catch (err) {
    if (!(err instanceof ArgsError)) throw err;
    process.stderr.write(`${spec.name}: ${err.message}\n\n${usage(spec)}\n`);
    process.exit(2);
  }
}
