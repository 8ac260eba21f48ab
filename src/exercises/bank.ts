/**
 * The exercise bank (exercises/bank.json): loading, per-student variants, answer parsing, checking
 * with a diagnosis of the likely mistake, and grading a whole answer sheet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { OracleError } from '../errors.js';
import { Rng } from '../rng.js';
import { PACKAGE_ROOT } from '../grading/assignment.js';
import type { GradeResult, TestResult } from '../grading/grade.js';
import { KINDS, type Answer, type Kind, type P } from './kinds.js';

export interface Exercise {
  id: string;
  kind: string;
  title: string;
  params: P;
  source: string;
  erratum?: { deckValue: Answer; explanation: string };
}

let cache: Exercise[] | undefined;

export function loadBank(): Exercise[] {
  if (cache) return cache;
  const dir = join(PACKAGE_ROOT, 'exercises');
  const schema = JSON.parse(readFileSync(join(dir, 'bank.schema.json'), 'utf8')) as object;
  const bank = JSON.parse(readFileSync(join(dir, 'bank.json'), 'utf8')) as { exercises: Exercise[] };
  const validate = new Ajv2020({ strict: false }).compile(schema);
  if (!validate(bank)) throw new Error(`exercises/bank.json ${validate.errors![0].instancePath}: ${validate.errors![0].message}`);
  cache = bank.exercises;
  return cache;
}

export function getExercise(id: string): Exercise {
  const e = loadBank().find((x) => x.id === id);
  if (!e) {
    const near = loadBank().filter((x) => x.id.startsWith(id.split('/')[0]));
    throw new OracleError('INVALID_CASE', `no exercise ${JSON.stringify(id)}${near.length ? `; in ${id.split('/')[0]}/: ${near.map((x) => x.id).join(', ')}` : ''} (\`cnn-oracle exercise list\`)`);
  }
  return e;
}

export const kindOf = (e: Exercise): Kind => KINDS[e.kind];

/** Which variant: 0 (the notes' numbers), a seed, or a student id. */
export interface VariantChoice {
  seed?: string;
  student?: string;
}

export function variantParams(e: Exercise, v: VariantChoice = {}): P {
  const key = v.student !== undefined ? `student:${v.student}` : v.seed !== undefined && v.seed !== '0' ? `seed:${v.seed}` : undefined;
  if (!key) return e.params;
  return kindOf(e).vary(new Rng(`${e.id}/${key}`), e.params);
}

export const isVariantZero = (v: VariantChoice) => v.student === undefined && (v.seed === undefined || v.seed === '0');

/**
 * Reads an answer as a student would type it: JSON (5, [32, 32, 10], [[1, 2], [3, 4]]), a shape
 * (32x32x10, 32×32×10), a list (0, 1, 2), a percentage (75%), thousands separators (138,344,128),
 * or "none" / "does not fit".
 */
export function parseAnswer(text: string): Answer {
  const t = text.trim();
  if (/^(none|no|does ?n[o']t fit|does not fit|n\/a)$/i.test(t)) return 'none';
  try {
    const v = JSON.parse(t) as unknown;
    if (typeof v === 'number' || Array.isArray(v) || typeof v === 'string') return v as Answer;
  } catch {
    /* not JSON */
  }
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) return Number(t.replace(/,/g, ''));
  if (/^-?[\d.]+\s*%$/.test(t)) return Number(t.replace('%', ''));
  if (/^\d+(\s*[x×*]\s*\d+)+$/i.test(t)) return t.split(/\s*[x×*]\s*/i).map(Number);
  if (/^[-\d.\s,;]+$/.test(t) && /[,;\s]/.test(t)) return t.split(/[\s,;]+/).filter(Boolean).map(Number);
  const n = Number(t);
  if (t !== '' && !Number.isNaN(n)) return n;
  throw new OracleError('INVALID_CASE', `could not read the answer ${JSON.stringify(text)}: give a number, a shape like 32x32x10, a list, JSON, or "none"`);
}

/** Equal as answers: same structure; integers exactly (for exact kinds), reals to 4 significant digits. */
export function sameAnswer(got: Answer, want: Answer, exact: boolean): boolean {
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return want.length === 1 ? sameAnswer(got, want[0], exact) : false;
    return got.length === want.length && want.every((w, i) => sameAnswer(got[i], w, exact));
  }
  if (typeof want === 'string' || typeof got === 'string') return String(got).toLowerCase() === String(want).toLowerCase();
  if (typeof got !== 'number' || Number.isNaN(got)) return false;
  if (exact && Number.isInteger(want)) return got === want;
  if (want === 0) return Math.abs(got) <= 5e-5;
  const unit = Math.pow(10, Math.floor(Math.log10(Math.abs(want))) - 3); // the 4th significant digit
  return Math.abs(got - want) <= 0.5 * unit + 1e-12 * Math.abs(want);
}

export interface CheckOutcome {
  correct: boolean;
  /** The likely mistake, when the answer matches one. */
  mistake?: string;
  /** When the answer is the notes' erratum value: why it is wrong. */
  erratum?: string;
  /** The tolerance the question states. */
  tolerance: string;
}

export function toleranceText(k: Kind): string {
  return k.exact ? 'exact (integers); reals to 4 significant digits' : '4 significant digits';
}

export function checkAnswer(e: Exercise, v: VariantChoice, answer: Answer): CheckOutcome {
  const k = kindOf(e);
  const p = variantParams(e, v);
  const want = k.answer(p);
  const tolerance = toleranceText(k);
  if (sameAnswer(answer, want, k.exact)) return { correct: true, tolerance };
  if (e.erratum && isVariantZero(v) && sameAnswer(answer, e.erratum.deckValue, false)) return { correct: false, erratum: e.erratum.explanation, tolerance };
  for (const m of k.mistakes(p)) if (!sameAnswer(m.value, want, k.exact) && sameAnswer(answer, m.value, k.exact)) return { correct: false, mistake: m.label, tolerance };
  return { correct: false, tolerance };
}

export function questionText(e: Exercise, v: VariantChoice = {}): string {
  const k = kindOf(e);
  return `${k.question(variantParams(e, v))}\n(Tolerance: ${toleranceText(k)}.)`;
}

export function solutionText(e: Exercise, v: VariantChoice = {}): string[] {
  const p = variantParams(e, v);
  const steps = kindOf(e).steps(p);
  if (e.erratum && isVariantZero(v)) steps.push(`Erratum: ${e.erratum.explanation}`);
  return steps;
}

/** An answer sheet: `{ "student": "ada", "variant": "student" | 0, "answers": { id: value } }`. */
export interface Sheet {
  student?: string;
  variant?: 'student' | 0;
  answers: Record<string, unknown>;
}

export function isSheet(v: unknown): v is Sheet {
  return !!v && typeof v === 'object' && !Array.isArray(v) && typeof (v as Sheet).answers === 'object' && (v as Sheet).answers !== null;
}

/** Grades an answer sheet into the same result model as code (one test per exercise, 1 point). */
export function gradeSheet(sheet: Sheet, opts: { student?: string; file: string; exercises?: string[] }): GradeResult {
  const t0 = performance.now();
  const student = opts.student ?? sheet.student ?? 'student';
  const v: VariantChoice = sheet.variant === 'student' ? { student } : {};
  const ids = opts.exercises ?? Object.keys(sheet.answers);
  const tests: TestResult[] = ids.map((id) => {
    let message: string | undefined;
    let passed = false;
    let diagnosis: { id: string; title: string; explanation: string } | undefined;
    try {
      const e = getExercise(id);
      const raw = sheet.answers[id];
      if (raw === undefined) message = 'not answered';
      else {
        const ans = typeof raw === 'string' ? parseAnswer(raw) : (raw as Answer);
        const r = checkAnswer(e, v, ans);
        passed = r.correct;
        if (!passed) {
          message = r.erratum ? `wrong: ${r.erratum}` : r.mistake ? `wrong: looks like you ${r.mistake}` : 'wrong';
          if (r.mistake) diagnosis = { id: `${e.kind}/mistake`, title: r.mistake, explanation: `Looks like you ${r.mistake}.` };
        }
      }
    } catch (err) {
      message = (err as Error).message;
    }
    return {
      name: id,
      op: 'exercise',
      score: passed ? 1 : 0,
      maxScore: 1,
      visibility: 'visible',
      passed: passed ? 1 : 0,
      total: 1,
      status: passed ? 'passed' : 'failed',
      cases: [{ id, passed, ms: 0, random: false, ...(message ? { message, rung: 'values' as const } : {}), ...(diagnosis ? { diagnosis } : {}) }],
    };
  });
  const score = tests.reduce((s, t) => s + t.score, 0);
  return {
    format: 'cnn-oracle/grade-result@1',
    assignment: `exercise sheet (${ids.length} exercises${v.student !== undefined ? `, ${student}'s variants` : ''})`,
    student,
    submission: opts.file,
    score,
    maxScore: tests.length,
    executionTimeMs: Math.round(performance.now() - t0),
    tests,
    gradable: true,
    formatErrors: [],
    log: '',
    graderErrors: [],
  };
}
