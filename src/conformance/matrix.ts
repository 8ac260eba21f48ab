/**
 * The op × library summary (issue 13, `conformance --matrix`): every target's conformance run, one
 * row per op and one column per target. The cells come from runConformance's reports as they are;
 * nothing here judges.
 */
import { allOps } from '../registry.js';
import type { TargetAdapter } from './adapter.js';
import { ProgramError } from './command.js';
import { runConformance, tableLines, type ConformanceOptions, type Report } from './run.js';

/**
 * One cell. `passed`: every judged case passed; `failed`: at least one failed; `unsupported`: the
 * target has no adapter for the op, or declined every case; `not run`: no case judged because the
 * target broke earlier in the run (a trapped WebAssembly instance); `unavailable`: the target could
 * not be loaded or started on this machine.
 */
export interface MatrixCell {
  status: 'passed' | 'failed' | 'unsupported' | 'not run' | 'unavailable';
  passed: number;
  failed: number;
  /** Cases not judged, `notRun` included. */
  unsupported: number;
  notRun: number;
}

export interface Matrix {
  targets: { name: string; precision?: string; unavailable?: string }[];
  ops: string[];
  /** op → target → cell. */
  cells: Record<string, Record<string, MatrixCell>>;
}

/** A target's run: its report, or why it could not run here. */
export type TargetRun = { target: string; report: Report } | { target: string; unavailable: string };

/** The matrix of some runs over `ops` (rows in that order). */
export function buildMatrix(runs: TargetRun[], ops: string[]): Matrix {
  const cells: Matrix['cells'] = {};
  for (const op of ops) {
    cells[op] = {};
    for (const r of runs) {
      const cell: MatrixCell = { status: 'unavailable', passed: 0, failed: 0, unsupported: 0, notRun: 0 };
      if ('report' in r) {
        for (const row of r.report.rows.filter((w) => w.op === op)) {
          cell.passed += row.passed;
          cell.failed += row.failed;
          cell.unsupported += row.unsupported;
          cell.notRun += row.notRun ?? 0;
        }
        cell.status = cell.failed ? 'failed' : cell.passed ? 'passed' : cell.notRun ? 'not run' : 'unsupported';
      }
      cells[op][r.target] = cell;
    }
  }
  return {
    targets: runs.map((r) => ('report' in r ? { name: r.target, precision: r.report.precision } : { name: r.target, unavailable: r.unavailable })),
    ops,
    cells,
  };
}

/**
 * A cell as printed: `pass 14` (cases passed), `FAIL 2/14` (failed of judged), `—` unsupported,
 * `not run` (the target broke earlier), `n/a` unavailable; `, k not run` after a count when the
 * target broke during the op.
 */
export function cellText(c: MatrixCell): string {
  if (c.status === 'unavailable') return 'n/a';
  if (c.status === 'unsupported') return '—';
  if (c.status === 'not run') return 'not run';
  const more = c.notRun ? `, ${c.notRun} not run` : '';
  return (c.status === 'failed' ? `FAIL ${c.failed}/${c.passed + c.failed}` : `pass ${c.passed}`) + more;
}

export function matrixText(m: Matrix, markdown = false): string {
  const head = ['op', ...m.targets.map((t) => t.name)];
  const body = m.ops.map((op) => [op, ...m.targets.map((t) => cellText(m.cells[op][t.name]))]);
  const lines = tableLines(head, body, markdown);
  const bullet = markdown ? '- ' : '  ';
  lines.push('', `pass N: all N judged cases passed; FAIL k/N: k of N failed; —: not supported by the target; n/a: the target is not available here`);
  if (m.ops.some((op) => m.targets.some((t) => m.cells[op][t.name].notRun))) lines.push(`not run: the target broke earlier in its run (a trapped WebAssembly instance); --ops runs the op alone`);
  const na = m.targets.filter((t) => t.unavailable);
  if (na.length) lines.push('', markdown ? '**Not available here:**' : 'not available here:', ...na.map((t) => `${bullet}${t.name}: ${t.unavailable!.split('\n')[0]}`));
  const failing = m.ops.flatMap((op) => m.targets.filter((t) => m.cells[op][t.name].status === 'failed').map((t) => `${t.name} --ops ${op}`));
  if (failing.length) lines.push('', markdown ? '**Failing** (rerun one for its report and reproducing cases):' : 'failing (rerun one for its report and reproducing cases):', ...failing.map((f) => `${bullet}cnn-oracle conformance --target ${f}`));
  return lines.join('\n') + '\n';
}

/**
 * Runs conformance on each target (loaded by `load`; a target that cannot be loaded or whose
 * program cannot be started is unavailable) and builds the matrix over `ops` (default: every op
 * of the catalogue). Failures are not shrunk unless asked: the matrix shows counts only.
 */
export async function runMatrix(targets: readonly string[], load: (name: string) => Promise<TargetAdapter>, opts: ConformanceOptions = {}, progress?: (line: string) => void): Promise<Matrix> {
  const runs: TargetRun[] = [];
  for (const name of targets) {
    let target: TargetAdapter;
    try {
      target = await load(name);
    } catch (e) {
      runs.push({ target: name, unavailable: (e as Error).message });
      continue;
    }
    progress?.(`running ${name}…`);
    const ops = opts.ops ? opts.ops.filter((o) => target.ops[o]) : undefined;
    try {
      runs.push({ target: name, report: ops && !ops.length ? { target: name, description: target.description, precision: target.precision, rows: [], failures: [] } : await runConformance(target, { shrink: false, ...opts, ops }) });
    } catch (e) {
      if (!(e instanceof ProgramError)) throw e;
      await target.dispose?.();
      runs.push({ target: name, unavailable: e.message });
    }
  }
  const ops = allOps()
    .map((o) => o.name)
    .filter((o) => !opts.ops || opts.ops.includes(o));
  return buildMatrix(runs, ops);
}
