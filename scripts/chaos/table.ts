/** The per-scenario report: one block per scenario, then the summary line in run.ts. */
import type { Check } from './invariants.ts';

export interface Row {
  n: number;
  name: string;
  fault: string;
  traffic: string;
  acknowledged: number;
  refused: number;
  lost: number;
  duplicated: number;
  /** HTTP redeliveries to the consumer so far (at-least-once by contract; it dedupes by key). */
  redelivered: number;
  checks: Check[];
  /** From the end of the fault to a drained backlog; -1 if it did not drain in time. */
  recoverMs: number;
  doomed: number;
}

export function printRow(r: Row): void {
  const verdict = r.checks.every((c) => c.ok) ? 'PASS' : 'FAIL';
  const lines = [
    `| ${r.n}. ${r.name} | ${verdict} |`,
    `|  fault        | ${r.fault}`,
    `|  traffic      | ${r.traffic}: ${r.acknowledged} acknowledged, ${r.refused} refused (incl. deliberate 4xx)`,
    `|  lost / dup   | ${r.lost} lost, ${r.duplicated} duplicated effects (consumer redeliveries so far: ${r.redelivered})`,
    `|  recovered in | ${r.recoverMs < 0 ? 'did not drain in time' : `${(r.recoverMs / 1000).toFixed(1)} s after the fault`}`,
    ...r.checks.map((c) => `|  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(8)} ${c.detail.split('\n')[0]}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const c of r.checks) if (!c.ok && c.detail.includes('\n')) process.stdout.write(`${c.detail}\n`);
}

/** All scenarios as one Markdown table (what docs/RELIABILITY.md keeps). */
export function printSummary(rows: Row[]): void {
  const cell = (s: string) => s.replace(/\|/g, '/').replace(/\n/g, ' ');
  const lines = [
    '| # | scenario | fault | traffic | acked | lost | dup | invariants | recovered |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const failed = r.checks.filter((c) => !c.ok).map((c) => c.name);
      const inv = failed.length ? `FAIL ${failed.join(', ')}` : `ok (${r.checks.map((c) => c.name).join(' ')})`;
      return `| ${r.n} | ${r.name} | ${cell(r.fault)} | ${cell(r.traffic)} | ${r.acknowledged} | ${r.lost} | ${r.duplicated} | ${inv} | ${r.recoverMs < 0 ? 'no' : `${(r.recoverMs / 1000).toFixed(1)} s`} |`;
    }),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}
