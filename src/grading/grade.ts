/**
 * Grading one submission against an assignment. Scores are computed here, in the grader's
 * process, from the outputs received; student code runs in a child process (process.ts).
 */
import { join } from 'node:path';
import type { Backend, OpDef, Inputs, Outputs } from '../registry.js';
import type { TensorJSON } from '../tensor.js';
import { encodeInputs, encodeOutputs } from '../cases.js';
import { compareArrays } from '../compare.js';
import { SubmissionProcess, type Isolation, type Outcome, type SubmissionSpec } from './process.js';
import { PACKAGE_ROOT, collectCases, type Assignment, type GradingCase, type TestSpec, type Visibility } from './assignment.js';
import { allowances, climb, sameOutputs, type CaseCheck, type Rung, type TolerancePolicy } from './ladder.js';
import { mistakesFor, type Mistake } from './mistakes.js';
import { shrinkCase } from './shrink.js';

export interface CaseResult {
  id: string;
  passed: boolean;
  rung?: Rung;
  message?: string;
  diagnosis?: { id: string; title: string; explanation: string };
  ms: number;
  random: boolean;
  note?: string;
  /** Shown when the feedback switches allow (failed cases only). */
  inputs?: Record<string, TensorJSON>;
  params?: Record<string, unknown>;
  expected?: Record<string, TensorJSON>;
  got?: Record<string, TensorJSON>;
  /** A smaller failing variant of a random case. */
  shrunk?: { inputs: Record<string, TensorJSON>; expected: Record<string, TensorJSON>; got?: Record<string, TensorJSON>; message?: string };
}

export interface TestResult {
  name: string;
  op: string;
  score: number;
  maxScore: number;
  visibility: Visibility;
  passed: number;
  total: number;
  status: 'passed' | 'failed';
  cases: CaseResult[];
}

export interface GradeResult {
  format: 'cnn-oracle/grade-result@1';
  assignment: string;
  student: string;
  submission: string;
  score: number;
  maxScore: number;
  executionTimeMs: number;
  tests: TestResult[];
  isolation: Isolation;
  /** What the submission wrote to standard error (truncated). */
  log: string;
  /** Failures of the grader itself (the cases involved are not counted against the student). */
  graderErrors: string[];
}

/** The first catalogue mistake whose outputs the submission's outputs match. */
export function diagnose(op: OpDef, inputs: Inputs, params: Record<string, unknown>, got: Outputs, policy: TolerancePolicy): Mistake | undefined {
  for (const m of mistakesFor(op.name)) {
    let wrong: Outputs;
    try {
      wrong = m.apply(inputs, params);
    } catch {
      continue;
    }
    const names = Object.keys(got).filter((k) => wrong[k]);
    if (!names.length) continue;
    let allowed: ReturnType<typeof allowances>;
    try {
      allowed = allowances(op, inputs, params, Object.fromEntries(names.map((k) => [k, wrong[k]])), policy);
    } catch {
      continue;
    }
    if (names.every((k) => compareArrays(got[k], wrong[k], allowed[k]).ok)) return m;
  }
  return undefined;
}

export interface GradeOptions {
  student?: string;
  /** Called after each case (progress). */
  onCase?: (test: TestSpec, c: CaseResult) => void;
  /** Which backend computes the expected outputs (default the exact reference); see collectCases. */
  backend?: Backend;
}

export async function grade(spec: SubmissionSpec, a: Assignment, opts: GradeOptions = {}): Promise<GradeResult> {
  const t0 = performance.now();
  const student = opts.student ?? 'student';
  const proc = new SubmissionProcess(spec, { memoryMb: a.memoryLimitMb }, [...a.caseDirs, join(PACKAGE_ROOT, 'fixtures')]);
  const tests: TestResult[] = [];
  const graderErrors: string[] = [];
  let seq = 0;
  const ask = (c: GradingCase, inputs: Inputs, timeLimitMs: number): Promise<Outcome> =>
    proc.request({ id: `r${seq++}`, op: c.op.name, inputs: encodeInputs(c.op, inputs), params: c.params, outputNames: c.op.outputs.filter((o) => !o.conditional || c.expected[o.name]).map((o) => o.name) }, timeLimitMs);
  try {
    for (const t of a.tests) {
      const cases = await collectCases(a, t, student, opts.backend);
      const results: CaseResult[] = [];
      let broken = 0; // consecutive cases that timed out, crashed or ran out of memory
      let lastWhy = '';
      for (const c of cases) {
        let r: CaseResult;
        if (broken >= 2) {
          r = { id: c.id, passed: false, rung: 'returns', message: `not run: the two previous ${t.op} cases ${lastWhy}`, ms: 0, random: c.random };
        } else {
          try {
            r = await gradeCase(t, c, ask);
          } catch (e) {
            graderErrors.push(`${t.name}/${c.id}: ${(e as Error).message}`);
            continue;
          }
          const why = r.rung === 'returns' ? /( timed out| crashed| ran out of memory):/.exec(r.message ?? '') : null;
          broken = why ? broken + 1 : 0;
          if (why) lastWhy = why[1].trim();
        }
        results.push(r);
        opts.onCase?.(t, r);
      }
      const passed = results.filter((r) => r.passed).length;
      const total = results.length;
      const score = total === 0 ? t.points : t.partialCredit ? (t.points * passed) / total : passed === total ? t.points : 0;
      tests.push({ name: t.name, op: t.op, score, maxScore: t.points, visibility: t.visibility, passed, total, status: passed === total ? 'passed' : 'failed', cases: results });
    }
  } finally {
    proc.close();
  }
  const score = tests.reduce((s, t) => s + t.score, 0);
  return {
    format: 'cnn-oracle/grade-result@1',
    assignment: a.name,
    student,
    submission: spec.kind === 'js' ? spec.file : spec.command,
    score,
    maxScore: tests.reduce((s, t) => s + t.maxScore, 0),
    executionTimeMs: Math.round(performance.now() - t0),
    tests,
    isolation: proc.isolation,
    log: proc.stderr.slice(-16384),
    graderErrors,
  };
}

async function gradeCase(t: TestSpec, c: GradingCase, ask: (c: GradingCase, inputs: Inputs, ms: number) => Promise<Outcome>): Promise<CaseResult> {
  const outcome = await ask(c, c.inputs, t.timeLimitMs);
  let check: CaseCheck = climb(c.op, c.inputs, c.params, c.expected, outcome, t.tolerance, c.expectedBy);
  if (check.passed && t.properties.includes('deterministic')) {
    const again = await ask(c, c.inputs, t.timeLimitMs);
    const second = climb(c.op, c.inputs, c.params, c.expected, again, t.tolerance, c.expectedBy);
    if (second.got && check.got && !sameOutputs(check.got, second.got)) check = { passed: false, rung: 'properties', message: `${c.op.name} gave different answers to the same call twice` };
  }
  if (!check.passed && check.rung === 'properties' && !t.properties.includes('inputsUnchanged') && /changed its input/.test(check.message ?? '')) check = { passed: true, got: check.got };
  const r: CaseResult = { id: c.id, passed: check.passed, ms: Math.round(outcome.ms), random: c.random, ...(c.note ? { note: c.note } : {}) };
  if (check.passed) return r;
  r.rung = check.rung;
  r.message = check.message;
  if (t.feedback.diagnose && check.got && (check.rung === 'shape' || check.rung === 'values' || check.rung === 'finite')) {
    const m = diagnose(c.op, c.inputs, c.params, check.got, t.tolerance);
    if (m) r.diagnosis = { id: m.id, title: m.title, explanation: m.explanation };
  }
  if (t.feedback.showInputs) {
    r.inputs = encodeInputs(c.op, c.inputs);
    r.params = c.params;
  }
  if (t.feedback.showExpected) r.expected = encodeOutputs(c.op, c.expected);
  if (check.got) r.got = encodeOutputs(c.op, check.got);
  if (c.random && t.feedback.shrink && check.rung !== 'exists') {
    const small = await shrinkCase(c.op, c.inputs, async (variant) => {
      let expected: Outputs;
      try {
        expected = c.op.reference(variant, c.params);
      } catch {
        return false;
      }
      const o = await ask(c, variant, t.timeLimitMs);
      return !climb(c.op, variant, c.params, expected, o, t.tolerance).passed;
    });
    if (small) {
      const expected = c.op.reference(small, c.params);
      const o = await ask(c, small, t.timeLimitMs);
      const k = climb(c.op, small, c.params, expected, o, t.tolerance);
      r.shrunk = { inputs: encodeInputs(c.op, small), expected: encodeOutputs(c.op, expected), ...(k.got ? { got: encodeOutputs(c.op, k.got) } : {}), message: k.message };
    }
  }
  return r;
}
