import { markdownTable } from 'markdown-table';
import type { MachineFacts } from './machine.ts';

/** One cell: numbers are formatted by fmt() and right-aligned, strings are left-aligned. */
export type Cell = string | number;

export interface Table {
  columns: string[];
  rows: Cell[][];
}

export interface BenchResult {
  bench: string;
  machine: MachineFacts;
  /** Printed, not put in the JSON line. */
  table: Table;
  /** Raw numbers (rates, latencies in ms, MB); nested objects allowed. */
  figures: Record<string, unknown>;
  /** Conveyor figure / same-run ceiling, 0–1 (or more). */
  ratios: Record<string, number>;
  /** Run settings (duration, connections, ...), kept in the JSON so runs are comparable. */
  params?: Record<string, unknown>;
  /** Lines printed under the table (targets met or missed, caveats). */
  notes?: string[];
}

/** Thousands separators for big numbers, 2–3 significant decimals for small ones. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(0)} %`;
}

/** a / b rounded to 3 decimals; 0 when b is 0, so a missing ceiling never divides by zero. */
export function ratio(a: number, b: number): number {
  return b > 0 ? Math.round((a / b) * 1000) / 1000 : 0;
}

/** An aligned markdown table (markdown-table), readable in a terminal and pasteable into docs/BENCHMARKS.md. */
export function renderTable(table: Table): string {
  const text = table.rows.map((row) => table.columns.map((_, i) => cellText(row[i])));
  // A column of numbers only is right-aligned.
  const align = table.columns.map((_, i) => (table.rows.length > 0 && table.rows.every((r) => typeof r[i] === 'number' || r[i] === undefined || r[i] === '') ? 'r' : ''));
  return markdownTable([table.columns, ...text], { align });
}

function cellText(c: Cell | undefined): string {
  if (c === undefined) return '';
  return typeof c === 'number' ? fmt(c) : c;
}

/** The one JSON line a run ends with; exported so tests and comparison tools see the same shape. */
export function resultLine(result: BenchResult): string {
  return JSON.stringify({
    bench: result.bench,
    machine: result.machine,
    figures: result.figures,
    ratios: result.ratios,
    ...(result.params ? { params: result.params } : {}),
    at: new Date().toISOString(),
  });
}

/** Prints the table (and notes), then ONE final line of JSON on stdout. */
export function finish(result: BenchResult): void {
  const m = result.machine;
  const versions = [`node ${m.node}`, m.redis && `redis ${m.redis}`, m.mysql && `mysql ${m.mysql}`, m.busyBefore !== undefined && `cores ${Math.round(m.busyBefore * 100)} % busy at start`].filter(Boolean).join(', ');
  const out = [
    '',
    `## ${result.bench} — ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB, ${versions}`,
    '',
    renderTable(result.table),
  ];
  const ratioEntries = Object.entries(result.ratios);
  if (ratioEntries.length > 0) {
    out.push('', renderTable({ columns: ['ratio', 'value'], rows: ratioEntries.map(([k, v]) => [k, pct(v)]) }));
  }
  if (result.notes?.length) out.push('', ...result.notes.map((n) => `- ${n}`));
  out.push('', resultLine(result));
  process.stdout.write(out.join('\n') + '\n');
}
