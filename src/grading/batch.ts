/**
 * Grading a folder of submissions in parallel, into a CSV gradebook.
 * - Each entry that is a submission is one student: a folder, a JS/TS file, or an answer sheet
 *   (.json); anything else (README files, dotfiles, notes) is skipped and reported. Two entries
 *   that would give one student name (`bob/` and `bob.js`) are an error before anything runs.
 * - The gradebook and the results folder are checked writable before grading starts, and the
 *   gradebook is rewritten after every student, so nothing graded is lost on a later failure.
 * - The gradebook counts the named mistakes of each student; `mistakeSummary` counts them across
 *   the class.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { stringify as csv } from 'csv-stringify/sync';
import { grade, notGradable, type GradeResult } from './grade.js';
import { jsSubmission, SubmissionError, type SubmissionSpec } from './process.js';
import { EXTENSIONS, INSTRUCTOR_VIEW, render, type Format, type RenderOptions } from './report.js';
import { gradeAnswerSheet, readSheet } from './sheets.js';
import { UsageError, writeAtomic } from './command.js';
import type { Assignment } from './assignment.js';
import type { Backend } from '../registry.js';

export interface BatchOptions {
  jobs: number;
  command?: string;
  adapter?: string;
  readable?: string[];
  format?: Format;
  outDir?: string;
  /** The gradebook, rewritten after each student. */
  csv?: string;
  progress?: boolean;
  /** Where the one-line-per-student progress goes when `progress` is false (default: standard error). */
  log?: (line: string) => void;
  /** Which backend computes the expected outputs (grade's option). */
  backend?: Backend;
  unsafeNoSandbox?: boolean;
  /** Who the per-student results are for (default: the instructor). */
  view?: RenderOptions;
  /** Folders results are written to (the submissions must not write there). */
  resultsDirs?: string[];
}

export interface BatchRow {
  student: string;
  result?: GradeResult;
  error?: string;
}

export interface Entry {
  student: string;
  path: string;
  kind: 'folder' | 'js' | 'sheet';
}

const JS_EXT = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

/** The entries of a folder that are submissions, and those skipped (with why). Throws on a name collision. */
export function submissionsIn(dir: string, command?: string): { entries: Entry[]; skipped: string[] } {
  const entries: Entry[] = [];
  const skipped: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (f.startsWith('.')) {
      skipped.push(`${f} (hidden)`);
      continue;
    }
    let st;
    try {
      st = statSync(path);
    } catch {
      skipped.push(`${f} (cannot be read)`);
      continue;
    }
    const ext = extname(f).toLowerCase();
    if (st.isDirectory()) entries.push({ student: f, path, kind: 'folder' });
    else if (/^readme/i.test(f)) skipped.push(`${f} (a README)`);
    else if (!st.isFile()) skipped.push(`${f} (not a file or folder)`);
    else if (ext === '.json') entries.push({ student: basename(f, extname(f)), path, kind: 'sheet' });
    else if (JS_EXT.has(ext) && !command) entries.push({ student: basename(f, extname(f)), path, kind: 'js' });
    else skipped.push(`${f} (${command ? 'with --command each submission is a folder' : 'not a JS/TS module, a folder or an answer sheet'})`);
  }
  const by = new Map<string, Entry[]>();
  for (const e of entries) by.set(e.student, [...(by.get(e.student) ?? []), e]);
  const clashes = [...by.values()].filter((v) => v.length > 1);
  if (clashes.length) {
    throw new UsageError(`${dir}: ${clashes.map((v) => `${v.map((e) => basename(e.path) + (e.kind === 'folder' ? '/' : '')).join(' and ')} would both be student ${v[0].student}`).join('; ')}: rename one`);
  }
  return { entries, skipped };
}

/** Fails before grading when the gradebook or the results folder cannot be written. */
function checkWritable(opts: BatchOptions): void {
  if (opts.outDir) {
    try {
      mkdirSync(opts.outDir, { recursive: true });
      const probe = join(opts.outDir, `.cnn-oracle-${process.pid}`);
      writeFileSync(probe, '');
      rmSync(probe);
    } catch (e) {
      throw new UsageError(`--out-dir ${opts.outDir}: cannot write there (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (opts.csv) writeAtomic(opts.csv, '');
}

async function gradeEntry(e: Entry, a: Assignment, dir: string, opts: BatchOptions): Promise<GradeResult> {
  const t0 = performance.now();
  if (e.kind === 'sheet') {
    const s = readSheet(e.path);
    return 'error' in s ? notGradable(a, e.student, basename(e.path), t0, { format: s.error }) : gradeAnswerSheet(s.sheet, a, e.student, basename(e.path));
  }
  let spec: SubmissionSpec;
  try {
    spec = opts.command ? { kind: 'command', command: opts.command, cwd: e.path, readable: opts.readable } : jsSubmission(e.path, { adapter: opts.adapter, readable: opts.readable });
  } catch (err) {
    if (!(err instanceof SubmissionError)) throw err;
    return notGradable(a, e.student, e.path, t0, { format: err.message });
  }
  return grade(spec, a, { student: e.student, backend: opts.backend, unsafeNoSandbox: opts.unsafeNoSandbox, resultsDirs: opts.resultsDirs, protect: [dir] });
}

export async function gradeAll(dir: string, a: Assignment, opts: BatchOptions): Promise<{ rows: BatchRow[]; skipped: string[] }> {
  const { entries, skipped } = submissionsIn(dir, opts.command);
  checkWritable(opts);
  const rows: BatchRow[] = new Array(entries.length);
  const inFlight = new Set<string>();
  const bar = opts.progress
    ? new cliProgress.SingleBar({ format: 'grading [{bar}] {value}/{total} | {duration_formatted} elapsed | ETA {eta_formatted} | now: {inflight}', stream: process.stderr, hideCursor: true, etaBuffer: 20 }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(entries.length, 0, { inflight: '' });
  const saveGradebook = () => {
    if (opts.csv) writeAtomic(opts.csv, gradebook(rows.filter(Boolean), a));
  };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < entries.length) {
      const k = next++;
      const e = entries[k];
      inFlight.add(e.student);
      bar?.update(done, { inflight: [...inFlight].join(', ') });
      try {
        const result = await gradeEntry(e, a, dir, opts);
        rows[k] = { student: e.student, result };
        if (opts.outDir && opts.format) writeAtomic(join(opts.outDir, `${e.student}.${EXTENSIONS[opts.format]}`), render(result, opts.format, opts.view ?? INSTRUCTOR_VIEW));
      } catch (err) {
        rows[k] = { student: e.student, error: (err as Error).message };
      }
      inFlight.delete(e.student);
      done++;
      saveGradebook();
      if (bar) bar.update(done, { inflight: [...inFlight].join(', ') });
      else if (opts.progress === false) (opts.log ?? ((l: string) => void process.stderr.write(l)))(`graded ${done}/${entries.length}: ${e.student}\n`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, entries.length)) }, worker));
  } finally {
    bar?.stop();
  }
  return { rows, skipped };
}

/** The named mistakes of a result, with how many cases showed each. */
function mistakesOf(r: GradeResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of r.tests) for (const c of t.cases) if (c.diagnosis) m.set(c.diagnosis.id, (m.get(c.diagnosis.id) ?? 0) + 1);
  return m;
}

export function gradebook(rows: BatchRow[], a: Assignment): string {
  const tests = [...a.tests.map((t) => t.name), ...a.exercises.map((x) => x.id)];
  const max = a.tests.reduce((s, t) => s + t.points, 0) + a.exercises.reduce((s, x) => s + x.points, 0);
  const header = ['student', 'score', 'max_score', ...tests, 'mistakes', 'status'];
  const body = rows.map((r) => {
    if (!r.result) return [r.student, '', max, ...tests.map(() => ''), '', `error: ${r.error}`];
    const by = new Map(r.result.tests.map((t) => [t.name, t.score]));
    const status = !r.result.gradable ? `not gradable: ${[...r.result.formatErrors, ...r.result.graderErrors].join('; ')}` : r.result.graderErrors.length ? `grader errors: ${r.result.graderErrors.length}` : 'graded';
    const mistakes = [...mistakesOf(r.result)].map(([id, n]) => `${id} (${n})`).join('; ');
    return [r.student, round(r.result.score), r.result.maxScore, ...tests.map((n) => round(by.get(n) ?? 0)), mistakes, status];
  });
  return csv([header, ...body]);
}

/** How many students showed each named mistake, most frequent first. */
export function mistakeSummary(rows: BatchRow[]): [string, number][] {
  const count = new Map<string, number>();
  for (const r of rows) if (r.result) for (const id of mistakesOf(r.result).keys()) count.set(id, (count.get(id) ?? 0) + 1);
  return [...count].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
}

const round = (x: number) => Math.round(x * 1000) / 1000;
