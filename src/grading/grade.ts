/**
 * Grading one submission against an assignment. Expected values and every judging step are
 * computed here, in the grader's process, from the grader's own copy of what the submission
 * answered; the submission runs in a sandbox (process.ts, src/sandbox), frozen while an answer is
 * judged.
 */
import { join } from 'node:path';
import type { Backend, OpDef, Inputs, Outputs } from '../registry.js';
import type { TensorJSON } from '../tensor.js';
import { encodeInputs, encodeOutputs } from '../cases.js';
import { compareArrays, shrinkFailure, type Failure } from '../judge/index.js';
import { chooseMode, type SandboxMode } from '../sandbox/capabilities.js';
import { SandboxError } from '../sandbox/sandbox.js';
import { toBase64, type WireTensor } from '../sandbox/runner/wire.js';
import { SubmissionError, SubmissionProcess, type Isolation, type Outcome, type SubmissionSpec } from './process.js';
import { PACKAGE_ROOT, collectCases, type Assignment, type GradingCase, type TestSpec, type Visibility } from './assignment.js';
import { climb, sameOutputs, type CaseCheck, type Rung } from './ladder.js';
import { allowances, type TolerancePolicy } from '../judge/bounds.js';
import { mistakesFor, type Mistake } from './mistakes.js';

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
  /**
   * A smaller failing variant of a random case: it fails on the same rung and, on the values rung,
   * keeps at least SEVERITY_KEPT of the original's error × allowance (`severity`: from the
   * original, to the variant; null for a failure of another kind, ∞× the allowance).
   */
  shrunk?: { inputs: Record<string, TensorJSON>; expected: Record<string, TensorJSON>; got?: Record<string, TensorJSON>; message?: string; severity: { from: number; to: number } };
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
  /**
   * False when the submission could not be graded at all: it could not be found, copied, started
   * or loaded (`formatErrors`, the student's to fix), or the grader could not run it safely
   * (`graderErrors`). Its score is then 0.
   */
  gradable: boolean;
  formatErrors: string[];
  score: number;
  maxScore: number;
  executionTimeMs: number;
  tests: TestResult[];
  isolation?: Isolation;
  /** What the submission wrote to standard error (its start and its end). */
  log: string;
  /** Failures of the grader itself (the cases involved are not counted against the student). */
  graderErrors: string[];
  /** Remarks for the reader (e.g. what of an answer sheet was ignored). */
  notes?: string[];
}

/**
 * The first catalogue mistake whose numerical signature the submission's outputs carry: on the
 * outputs the mistake marks (its signature), the answer matches one of the ways of writing the
 * mistake, within the tolerance, where that way differs from the right answer. Outputs outside the
 * signature are not looked at, so a student who makes the mistake consistently (an unbiased
 * batchVar along with the unbiased normalisation) is recognised too.
 */
export function diagnose(op: OpDef, inputs: Inputs, params: Record<string, unknown>, got: Outputs, policy: TolerancePolicy, expected?: Outputs): Mistake | undefined {
  for (const m of mistakesFor(op.name)) {
    let ways: Outputs[];
    try {
      ways = [m.apply(inputs, params), ...(m.alsoWrittenAs?.(inputs, params) ?? [])];
    } catch {
      continue;
    }
    const signature = m.signature ?? [op.outputs[0].name];
    for (const wrong of ways) {
      const names = signature.filter((k) => got[k] && wrong[k]);
      if (!names.length) continue;
      let allowed: ReturnType<typeof allowances>;
      try {
        allowed = allowances(op, inputs, params, wrong, policy); // an op's bound may need all its outputs
      } catch {
        continue;
      }
      // a way of writing the mistake that gives the right answer here says nothing
      if (expected && names.every((k) => expected[k] && compareArrays(wrong[k], expected[k], allowed[k]).ok)) continue;
      if (names.every((k) => compareArrays(got[k], wrong[k], allowed[k]).ok)) return m;
    }
  }
  return undefined;
}

export interface GradeOptions {
  student?: string;
  /** Called after each case (progress). */
  onCase?: (test: TestSpec, c: CaseResult) => void;
  /** Which backend computes the expected outputs (default the exact reference); see collectCases. */
  backend?: Backend;
  /** Run without a sandbox when none is available (--unsafe-no-sandbox). */
  unsafeNoSandbox?: boolean;
  /** Where the results will be written: the submission must not be able to write there. */
  resultsDirs?: string[];
  /** More that the submission must not read (grade-all: the folder of every student's original submission). */
  protect?: string[];
}

/** The sandbox mode for this grading, or why there is none. */
export function sandboxMode(unsafe: boolean | undefined): { mode: SandboxMode } | { error: string } {
  let mode: SandboxMode;
  try {
    mode = chooseMode();
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (mode === 'none' && !unsafe) {
    return {
      error:
        'no sandbox is available here, so the submission was not run: install bubblewrap (user namespaces), or run the grader as root so that it can use a dedicated unprivileged uid, or pass --unsafe-no-sandbox to run the submission with the grader’s own rights',
    };
  }
  return { mode };
}

/** Elements of every tensor, for the bound on an answer line. */
const elements = (o: Record<string, { data: ArrayLike<number> }>) => Object.values(o).reduce((s, a) => s + a.data.length, 0);

/** The request's tensors on the wire: binary when the program reads it, else JSON. */
export function wireInputs(op: OpDef, inputs: Inputs, binary: boolean): Record<string, WireTensor> {
  const json = encodeInputs(op, inputs);
  if (!binary) return json as Record<string, WireTensor>;
  const out: Record<string, WireTensor> = {};
  for (const [k, t] of Object.entries(json)) out[k] = { shape: t.shape, dtype: t.dtype, base64: toBase64(inputs[k].data, t.dtype ?? 'float64') };
  return out;
}

/** The result of a submission that could not be graded at all (score 0, every test marked as not run). */
export function notGradable(a: Assignment, student: string, submission: string, t0: number, why: { format?: string; grader?: string }, isolation?: Isolation, log = ''): GradeResult {
  return {
    format: 'cnn-oracle/grade-result@1',
    assignment: a.name,
    student,
    submission,
    gradable: false,
    formatErrors: why.format ? [why.format] : [],
    score: 0,
    maxScore: a.tests.reduce((s, t) => s + t.points, 0),
    executionTimeMs: Math.round(performance.now() - t0),
    tests: a.tests.map((t) => ({ name: t.name, op: t.op, score: 0, maxScore: t.points, visibility: t.visibility, passed: 0, total: 0, status: 'failed', cases: [] })),
    isolation,
    log,
    graderErrors: why.grader ? [why.grader] : [],
  };
}

export async function grade(spec: SubmissionSpec, a: Assignment, opts: GradeOptions = {}): Promise<GradeResult> {
  const t0 = performance.now();
  const student = opts.student ?? 'student';
  const submission = spec.kind === 'js' ? spec.root ?? spec.file : spec.command;
  // every case first: a broken assignment fails before any student code runs
  const cases = new Map<TestSpec, GradingCase[]>();
  for (const t of a.tests) cases.set(t, await collectCases(a, t, student, opts.backend));
  const chosen = sandboxMode(opts.unsafeNoSandbox);
  if ('error' in chosen) return notGradable(a, student, submission, t0, { grader: chosen.error });
  const totalMs = a.startupLimitMs + [...cases].reduce((s, [t, cs]) => s + t.timeLimitMs * cs.length * (t.properties.includes('deterministic') ? 2 : 1), 0);
  let proc: SubmissionProcess;
  try {
    proc = new SubmissionProcess(
      spec,
      { memoryMb: a.memoryLimitMb, startupMs: a.startupLimitMs, tasks: a.tasksLimit, fileMb: a.fileLimitMb, cpuSeconds: Math.max(10, Math.ceil((4 * totalMs) / 1000)) },
      // what holds answers: the package's code (reference, mistakes), fixtures and exercises; the assignment and its case folders
      { read: [...['dist', 'src', 'fixtures', 'exercises'].map((d) => join(PACKAGE_ROOT, d)), ...(a.file ? [a.file] : []), ...a.caseDirs, ...(opts.protect ?? [])], write: opts.resultsDirs ?? [] },
      chosen.mode,
    );
  } catch (e) {
    if (e instanceof SubmissionError) return notGradable(a, student, submission, t0, { format: e.message });
    if (e instanceof SandboxError) return notGradable(a, student, submission, t0, { grader: e.message });
    throw e;
  }
  const tests: TestResult[] = [];
  const graderErrors: string[] = [];
  try {
    const started = await proc.start();
    if (started || proc.loadError) {
      const why = proc.loadError ?? `the submission could not be started: ${started!.message}`;
      return notGradable(a, student, submission, t0, { format: why }, proc.isolation, proc.stderr.slice(-16384));
    }
    const ask = (c: GradingCase, inputs: Inputs, expected: Outputs, timeLimitMs: number): Promise<Outcome> =>
      proc.request(
        { id: proc.nextId(), op: c.op.name, inputs: wireInputs(c.op, inputs, proc.binary), params: c.params, outputNames: c.op.outputs.filter((o) => !o.conditional || expected[o.name]).map((o) => o.name) },
        timeLimitMs,
        (1 << 20) + 64 * (elements(expected) + elements(inputs)),
      );
    for (const t of a.tests) {
      const results: CaseResult[] = [];
      let broken = 0; // consecutive cases that timed out, crashed or ran out of memory
      let lastWhy = '';
      for (const c of cases.get(t)!) {
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
          const why = r.rung === 'returns' ? /( timed out| crashed| ran out of memory| flooded its output| did not start):/.exec(r.message ?? '') : null;
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
    submission,
    gradable: true,
    formatErrors: [],
    score,
    maxScore: tests.reduce((s, t) => s + t.maxScore, 0),
    executionTimeMs: Math.round(performance.now() - t0),
    tests,
    isolation: proc.isolation,
    log: proc.stderr.slice(-16384),
    graderErrors,
  };
}

/**
 * A failed case as shrinking compares it: its rung, and on the values rung the worst error as a
 * multiple of its allowance (∞ on every other rung: a wrong shape, NaN, a throw, a timeout).
 */
export function failureOf(k: CaseCheck): Failure | undefined {
  if (k.passed || !k.rung) return undefined;
  const ratios = Object.values(k.mismatch ?? {}).map((m) => m.worstRatio);
  return { kind: k.rung, severity: k.rung === 'values' && ratios.length ? Math.max(...ratios) : Infinity };
}

type Ask = (c: GradingCase, inputs: Inputs, expected: Outputs, ms: number) => Promise<Outcome>;

async function gradeCase(t: TestSpec, c: GradingCase, ask: Ask): Promise<CaseResult> {
  const outcome = await ask(c, c.inputs, c.expected, t.timeLimitMs);
  let check: CaseCheck = climb(c.op, c.inputs, c.params, c.expected, outcome, t.tolerance, c.expectedBy);
  if (check.passed && t.properties.includes('deterministic')) {
    const again = await ask(c, c.inputs, c.expected, t.timeLimitMs);
    const second = climb(c.op, c.inputs, c.params, c.expected, again, t.tolerance, c.expectedBy);
    if (second.got && check.got && !sameOutputs(check.got, second.got)) check = { passed: false, rung: 'properties', message: `${c.op.name} gave different answers to the same call twice` };
  }
  if (!check.passed && check.rung === 'properties' && !t.properties.includes('inputsUnchanged') && /changed its input/.test(check.message ?? '')) check = { passed: true, got: check.got };
  const r: CaseResult = { id: c.id, passed: check.passed, ms: Math.round(outcome.ms), random: c.random, ...(c.note ? { note: c.note } : {}) };
  if (check.passed) return r;
  r.rung = check.rung;
  r.message = check.message;
  if (t.feedback.diagnose && check.got && (check.rung === 'shape' || check.rung === 'values' || check.rung === 'finite')) {
    const m = diagnose(c.op, c.inputs, c.params, check.got, t.tolerance, c.expected);
    if (m) r.diagnosis = { id: m.id, title: m.title, explanation: m.explanation };
  }
  if (t.feedback.showInputs) {
    r.inputs = encodeInputs(c.op, c.inputs);
    r.params = c.params;
  }
  if (t.feedback.showExpected) r.expected = encodeOutputs(c.op, c.expected);
  if (check.got) r.got = encodeOutputs(c.op, check.got);
  // A failure that ended the process (a time-out, the memory limit, flooded output, a crash) is not
  // shrunk: every variant would cost a restart and up to a time limit, and a smaller input that
  // also times out says nothing new. What it answered wrongly (or threw) is.
  if (c.random && t.feedback.shrink && check.rung !== 'exists' && outcome.ok) {
    // the rule conformance shrinks by (judge/shrink.ts): the same rung failing, keeping its severity
    const original = failureOf(check)!;
    const small = await shrinkFailure(c.op, c.inputs, original, async (variant) => {
      let expected: Outputs;
      try {
        expected = c.op.reference(variant, c.params);
      } catch {
        return undefined; // a variant outside the op's domain
      }
      const o = await ask(c, variant, expected, t.timeLimitMs);
      // a variant that ended the process fails another way than the answer being shrunk
      if (!o.ok) return { kind: `process:${o.kind}`, severity: Infinity };
      return failureOf(climb(c.op, variant, c.params, expected, o, t.tolerance));
    });
    if (small) {
      const expected = c.op.reference(small, c.params);
      const o = await ask(c, small, expected, t.timeLimitMs);
      const k = climb(c.op, small, c.params, expected, o, t.tolerance);
      r.shrunk = {
        inputs: encodeInputs(c.op, small),
        expected: encodeOutputs(c.op, expected),
        ...(k.got ? { got: encodeOutputs(c.op, k.got) } : {}),
        message: k.message,
        severity: { from: original.severity, to: failureOf(k)?.severity ?? 0 },
      };
    }
  }
  return r;
}
