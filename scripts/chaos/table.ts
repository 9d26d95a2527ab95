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
