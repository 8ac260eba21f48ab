/**
 * Grading an exercise answer sheet, `{"answers": {"exercise-id": answer, …}}`, into the same result
 * model as code. The assignment decides what counts, never the sheet: its `exercises` list names
 * the exercises and their points (without an assignment, every exercise of the bank, 1 point each),
 * and the variant checked is the one of the student id the grader is given (`--student`, or the
 * platform's metadata), or the notes' own numbers with `"exerciseVariant": "published"`. What a
 * sheet says about itself (`student`, `variant`) is ignored and noted; answers to exercises the
 * assignment does not list are ignored and noted.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { checkAnswer, feedbackLines, getExercise, loadBank, readAnswerFor, type VariantChoice } from '../exercises/bank.js';
import type { Answer } from '../exercises/answers.js';
import type { Assignment } from './assignment.js';
import type { GradeResult, TestResult } from './grade.js';

export interface Sheet {
  answers: Record<string, unknown>;
  /** Other fields of the sheet (ignored: the grader decides who is graded and on what). */
  extra: Record<string, unknown>;
}

/** Position (line, column) of a character offset, for JSON errors. */
function lineColumn(text: string, at: number): string {
  const before = text.slice(0, at).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Reads and checks an answer sheet; an error message names the file and the field (JSON pointer) or the position. */
export function readSheet(file: string): { sheet: Sheet } | { error: string } {
  const name = basename(file);
  let text: string;
  try {
    if (statSync(file).size > 4 << 20) return { error: `${name}: an answer sheet is at most 4 MiB` };
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `${name}: cannot read the answer sheet (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    return { error: `${name}: an answer sheet must be valid JSON: ${(e as Error).message.split('\n')[0]}${at ? ` (${lineColumn(text, Number(at[1]))})` : ''}` };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { error: `${name}: an answer sheet must be a JSON object {"answers": {"exercise-id": answer, …}}` };
  const { answers, ...extra } = raw as Record<string, unknown>;
  if (answers === undefined) return { error: `${name} /answers: missing; an answer sheet is {"answers": {"exercise-id": answer, …}}` };
  if (!answers || typeof answers !== 'object' || Array.isArray(answers)) return { error: `${name} /answers: must be an object mapping exercise ids to answers, got ${Array.isArray(answers) ? 'an array' : JSON.stringify(answers)}` };
  return { sheet: { answers: answers as Record<string, unknown>, extra } };
}

/** The exercises an assignment grades (every exercise of the bank when it lists none), with their points. */
export function sheetExercises(a: Assignment | undefined): { id: string; points: number; visibility: TestResult['visibility'] }[] {
  if (a?.exercises.length) return a.exercises;
  return loadBank().map((e) => ({ id: e.id, points: 1, visibility: 'visible' as const }));
}

export function gradeAnswerSheet(sheet: Sheet, a: Assignment | undefined, student: string, file: string): GradeResult {
  const t0 = performance.now();
  const v: VariantChoice = a?.exerciseVariant === 'published' ? {} : { student };
  const listed = sheetExercises(a);
  const notes: string[] = [];
  for (const k of ['student', 'variant']) if (k in sheet.extra) notes.push(`the sheet's "${k}" field is ignored: ${a?.exerciseVariant === 'published' ? 'the notes’ own numbers are graded' : `graded as ${student}'s variants`}`);
  const extra = Object.keys(sheet.answers).filter((id) => !listed.some((x) => x.id === id));
  if (extra.length) notes.push(`answers to exercises this assignment does not grade are ignored: ${extra.slice(0, 10).join(', ')}${extra.length > 10 ? ', …' : ''}`);
  const tests: TestResult[] = listed.map(({ id, points, visibility }) => {
    let message: string | undefined;
    let passed = false;
    let diagnosis: { id: string; title: string; explanation: string } | undefined;
    const e = getExercise(id);
    const raw = sheet.answers[id];
    if (raw === undefined || raw === null || raw === '') message = 'not answered';
    else {
      try {
        const reading = typeof raw === 'string' ? readAnswerFor(e, v, raw) : undefined;
        const r = checkAnswer(e, v, reading ? reading.value : (raw as Answer), reading);
        passed = r.correct;
        if (!passed) {
          message = `wrong: ${feedbackLines(r).join(' ')}`.trim();
          if (r.mistake) diagnosis = { id: `${e.kind}/mistake`, title: r.mistake, explanation: `Looks like you ${r.mistake}.` };
        }
      } catch (err) {
        message = `could not read the answer: ${(err as Error).message}`;
      }
    }
    return {
      name: id,
      op: 'exercise',
      score: passed ? points : 0,
      maxScore: points,
      visibility,
      passed: passed ? 1 : 0,
      total: 1,
      status: passed ? 'passed' : 'failed',
      cases: [{ id, passed, ms: 0, random: false, ...(message ? { message, rung: 'values' as const } : {}), ...(diagnosis ? { diagnosis } : {}) }],
    };
  });
  return {
    format: 'cnn-oracle/grade-result@1',
    assignment: a?.name ?? `exercise sheet (every exercise, ${v.student !== undefined ? `${student}'s variants` : 'the notes’ numbers'})`,
    student,
    submission: file,
    gradable: true,
    formatErrors: [],
    score: tests.reduce((s, t) => s + t.score, 0),
    maxScore: tests.reduce((s, t) => s + t.maxScore, 0),
    executionTimeMs: Math.round(performance.now() - t0),
    tests,
    notes,
    log: '',
    graderErrors: [],
  };
}
