/**
 * The `grade` command: from a submission path to a results file, whatever happens.
 * - The results file is written by the grader alone, atomically (a temporary file renamed over
 *   it). Before any student code runs it holds a "not gradable: grading did not finish" result, so
 *   a grader that is killed still leaves a valid file, never a missing or half-written one.
 * - A submission that cannot be found, copied, started or loaded gets a "not gradable" result in
 *   the requested format (exit 0: it was graded, at 0); a grader that cannot do its job (no
 *   sandbox, an assignment error) writes one too, and exits 1 (or 2 for bad use).
 * - SIGINT/SIGTERM kill every submission process, remove their sandboxes, restore the terminal's
 *   cursor, and leave an "interrupted" result.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Backend } from '../registry.js';
import { defaultAssignment, loadAssignment, type Assignment } from './assignment.js';
import { grade, notGradable, type GradeResult } from './grade.js';
import { closeAll, jsSubmission, SubmissionError, type SubmissionSpec } from './process.js';
import { submitterFromPlatform } from './platform.js';
import { render, toClassroom, type Format, type RenderOptions } from './report.js';
import { gradeAnswerSheet, readSheet } from './sheets.js';

export interface GradeCommandOptions {
  assignment?: string;
  command?: string;
  adapter?: string;
  allowRead?: string[];
  unsafeNoSandbox?: boolean;
  student?: string;
  format: Format;
  out?: string;
  backend: Backend;
  view: RenderOptions;
  /** Exit 3 when the score is below this share of the points, in percent (GitHub Classroom, CI). */
  failUnder?: number;
  /** Append `result=<base64>` (GitHub Classroom's runner result) to $GITHUB_OUTPUT. */
  githubOutput?: boolean;
}

/** Exit statuses (grading.md), and 3: graded, but below --fail-under. */
export const GRADE_EXIT = { graded: 0, graderFailed: 1, usage: 2, belowThreshold: 3 } as const;

export class UsageError extends Error {}

/** Writes a file atomically: a temporary file in the same folder, renamed over the target. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A placeholder assignment for results written before the real one could be read. */
const UNKNOWN: Assignment = { name: 'assignment', id: 'assignment', exercises: [], exerciseVariant: 'student', memoryLimitMb: 0, startupLimitMs: 0, tasksLimit: 0, fileLimitMb: 0, tests: [], baseDir: '.', caseDirs: [] };

export async function gradeCommand(submission: string | undefined, o: GradeCommandOptions): Promise<{ result: GradeResult; text: string; exit: number }> {
  const t0 = performance.now();
  const platform = submitterFromPlatform();
  const student = o.student ?? platform?.student ?? 'student';
  const out = o.out ? resolve(o.out) : undefined;
  const where = submission ?? o.command ?? '(none)';
  const emit = (r: GradeResult) => {
    const text = render(r, o.format, o.view);
    if (out) writeAtomic(out, text);
    return text;
  };
  if (out) {
    try {
      mkdirSync(dirname(out), { recursive: true });
    } catch {
      /* writeAtomic names the problem */
    }
    emit(notGradable(UNKNOWN, student, where, t0, { grader: 'grading did not finish (the grader was stopped or crashed)' }));
  }
  let assignment: Assignment | undefined;
  try {
    assignment = o.assignment ? loadAssignment(o.assignment) : undefined;
  } catch (e) {
    const r = notGradable(UNKNOWN, student, where, t0, { grader: (e as Error).message });
    return { result: r, text: emit(r), exit: GRADE_EXIT.usage };
  }
  const stop = (signal: NodeJS.Signals) => {
    closeAll();
    if (process.stderr.isTTY) process.stderr.write('\x1b[?25h'); // the progress bar hides the cursor
    try {
      emit(notGradable(assignment ?? UNKNOWN, student, where, t0, { grader: `grading was interrupted (${signal})` }));
    } catch {
      /* nothing more can be done */
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    let r: GradeResult;
    const sheetFile = submission && !o.command && /\.json$/i.test(submission) ? submission : undefined;
    if (sheetFile) {
      const s = readSheet(sheetFile);
      const a = assignment;
      r = 'error' in s ? notGradable(a ?? UNKNOWN, student, basename(sheetFile), t0, { format: s.error }) : gradeAnswerSheet(s.sheet, a, student, basename(sheetFile));
    } else {
      const a = assignment ?? defaultAssignment();
      if (!a.tests.length) throw new UsageError(`${o.assignment}: this assignment lists only exercises: grade an answer sheet (a .json file) with it`);
      let spec: SubmissionSpec | undefined;
      let problem: string | undefined;
      const readable = o.allowRead?.map((p) => resolve(p));
      if (o.command) spec = { kind: 'command', command: o.command, cwd: submission ?? process.cwd(), readable };
      else if (!submission) throw new UsageError('give a submission file or folder, or --command');
      else {
        try {
          spec = jsSubmission(submission, { adapter: o.adapter && resolve(o.adapter), readable });
        } catch (e) {
          if (!(e instanceof SubmissionError)) throw e;
          problem = e.message;
        }
      }
      r = spec ? await grade(spec, a, { student, backend: o.backend, unsafeNoSandbox: o.unsafeNoSandbox, resultsDirs: out ? [dirname(out)] : [] }) : notGradable(a, student, where, t0, { format: problem });
    }
    if (platform && !o.student) r.notes = [...(r.notes ?? []), `graded as ${student}, from ${platform.source}`];
    const text = emit(r);
    if (o.githubOutput) {
      const file = process.env.GITHUB_OUTPUT;
      if (!file) throw new UsageError('--github-output: $GITHUB_OUTPUT is not set (it is, inside a GitHub Actions step)');
      appendFileSync(file, `result=${Buffer.from(JSON.stringify(toClassroom(r, o.view))).toString('base64')}\n`);
    }
    const failed = r.graderErrors.length > 0;
    const below = o.failUnder !== undefined && (r.maxScore ? (100 * r.score) / r.maxScore : 100) < o.failUnder;
    return { result: r, text, exit: failed ? GRADE_EXIT.graderFailed : below ? GRADE_EXIT.belowThreshold : GRADE_EXIT.graded };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const r = notGradable(assignment ?? UNKNOWN, student, where, t0, { grader: e.message });
    return { result: r, text: emit(r), exit: GRADE_EXIT.usage };
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}
