/** Grading a folder of submissions in parallel, with a progress bar and a CSV gradebook. */
import { readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { stringify as csv } from 'csv-stringify/sync';
import { grade, notGradable, type GradeResult } from './grade.js';
import { jsSubmission, SubmissionError, type SubmissionSpec } from './process.js';
import { render, type Format } from './report.js';
import type { Assignment } from './assignment.js';
import type { Backend } from '../registry.js';

export interface BatchOptions {
  jobs: number;
  command?: string;
  adapter?: string;
  readable?: string[];
  format?: Format;
  outDir?: string;
  progress?: boolean;
  /** Which backend computes the expected outputs (grade's option). */
  backend?: Backend;
  unsafeNoSandbox?: boolean;
  /** Folders results are written to (the submissions must not write there). */
  resultsDirs?: string[];
}

export interface BatchRow {
  student: string;
  result?: GradeResult;
  error?: string;
}

/** Each entry of the folder (a file or a folder, hidden ones skipped) is one student's submission. */
export function submissionsIn(dir: string): { student: string; path: string }[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((f) => ({ student: statSync(join(dir, f)).isDirectory() ? f : basename(f, extname(f)), path: join(dir, f) }));
}

export async function gradeAll(dir: string, a: Assignment, opts: BatchOptions): Promise<BatchRow[]> {
  const subs = submissionsIn(dir);
  const rows: BatchRow[] = new Array(subs.length);
  const bar = opts.progress ? new cliProgress.SingleBar({ format: 'grading [{bar}] {value}/{total} {student}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(subs.length, 0, { student: '' });
  if (opts.outDir) mkdirSync(opts.outDir, { recursive: true });
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < subs.length) {
      const k = next++;
      const { student, path } = subs[k];
      try {
        let result: GradeResult;
        try {
          const spec: SubmissionSpec = opts.command ? { kind: 'command', command: opts.command, cwd: path, readable: opts.readable } : jsSubmission(path, { adapter: opts.adapter, readable: opts.readable });
          result = await grade(spec, a, { student, backend: opts.backend, unsafeNoSandbox: opts.unsafeNoSandbox, resultsDirs: opts.resultsDirs, protect: [dir] });
        } catch (e) {
          if (!(e instanceof SubmissionError)) throw e;
          result = notGradable(a, student, path, performance.now(), { format: e.message });
        }
        rows[k] = { student, result };
        if (opts.outDir && opts.format) writeFileSync(join(opts.outDir, `${student}.${opts.format === 'junit' ? 'xml' : opts.format === 'html' ? 'html' : opts.format === 'text' ? 'txt' : 'json'}`), render(result, opts.format));
      } catch (e) {
        rows[k] = { student, error: (e as Error).message };
      }
      done++;
      if (bar) bar.update(done, { student });
      else if (opts.progress === false) process.stderr.write(`graded ${done}/${subs.length}: ${student}\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, subs.length)) }, worker));
  bar?.stop();
  return rows;
}

export function gradebook(rows: BatchRow[], a: Assignment): string {
  const tests = a.tests.map((t) => t.name);
  const header = ['student', 'score', 'max_score', ...tests, 'status'];
  const body = rows.map((r) => {
    if (!r.result) return [r.student, '', a.tests.reduce((s, t) => s + t.points, 0), ...tests.map(() => ''), `error: ${r.error}`];
    const by = new Map(r.result.tests.map((t) => [t.name, t.score]));
    const status = !r.result.gradable ? `not gradable: ${[...r.result.formatErrors, ...r.result.graderErrors].join('; ')}` : r.result.graderErrors.length ? `grader errors: ${r.result.graderErrors.length}` : 'graded';
    return [r.student, round(r.result.score), r.result.maxScore, ...tests.map((n) => round(by.get(n) ?? 0)), status];
  });
  return csv([header, ...body]);
}

const round = (x: number) => Math.round(x * 1000) / 1000;
