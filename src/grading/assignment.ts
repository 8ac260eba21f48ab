/**
 * Assignments: which ops are graded, on which cases, for how many points, with which time limit,
 * tolerance, visibility and feedback. Validated by a JSON Schema; the built-in default covers
 * every op of the registry with the bundled fixtures, the mistake triggers and per-student random
 * cases.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileLazily, schemaError } from '../json-schema.js';
import { globSync } from 'tinyglobby';
import { allOps, getOp, kernelOf, resolveParams, type Backend, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { parseCases, prepareCase } from '../cases.js';
import { OracleError } from '../errors.js';
import { fromData } from '../tensor.js';
import { Rng } from '../rng.js';
import { MISTAKES } from './mistakes.js';
import { getExercise } from '../exercises/bank.js';
import type { TolerancePolicy } from '../judge/bounds.js';
import { VISIBILITIES, type Visibility } from './names.js';

/** The package root (where fixtures/ lives), from dist/src/grading or src/grading. */
export const PACKAGE_ROOT = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export { VISIBILITIES, type Visibility } from './names.js';

export interface Feedback {
  showInputs: boolean;
  showExpected: boolean;
  diagnose: boolean;
  shrink: boolean;
}

export interface TestSpec {
  name: string;
  op: string;
  points: number;
  cases: string[];
  random: number;
  mistakes: boolean;
  visibility: Visibility;
  timeLimitMs: number;
  tolerance: TolerancePolicy;
  partialCredit: boolean;
  properties: ('deterministic' | 'inputsUnchanged')[];
  feedback: Feedback;
}

export interface AssignedExercise {
  id: string;
  points: number;
  visibility: Visibility;
}

export interface Assignment {
  name: string;
  id: string;
  /** Worked exercises graded from an answer sheet (src/grading/sheets.ts), with their points. */
  exercises: AssignedExercise[];
  /** Which variant of each exercise a sheet is checked against: the student's own, or the notes' numbers. */
  exerciseVariant: 'student' | 'published';
  /** Resident memory of all the submission's processes together. */
  memoryLimitMb: number;
  /** Start-up budget of the submission's process (each (re)start), apart from the per-case limits. */
  startupLimitMs: number;
  /** Processes and threads the submission may run at once. */
  tasksLimit: number;
  /** Largest file the submission may write, and its scratch folder's size. */
  fileLimitMb: number;
  tests: TestSpec[];
  /** The assignment file, when it came from one. */
  file?: string;
  /** Folder the case paths were resolved against. */
  baseDir: string;
  /** Folders holding the assignment's case files (hidden from submissions). */
  caseDirs: string[];
}

const toleranceSchema = {
  oneOf: [
    { const: 'bound', description: 'the op’s error bound at `precision` (default)' },
    {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: { rtol: { type: 'number', minimum: 0 }, atol: { type: 'number', minimum: 0 }, ulp: { type: 'number', minimum: 0 } },
    },
  ],
};

const feedbackSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    showInputs: { type: 'boolean', description: 'print the inputs of a failing case' },
    showExpected: { type: 'boolean', description: 'print the expected output of a failing case' },
    diagnose: { type: 'boolean', description: 'name a known mistake when the outputs match one' },
    shrink: { type: 'boolean', description: 'shrink failing random cases to a small reproducer' },
  },
};

const common = {
  precision: { enum: ['float32', 'float64'], description: 'precision the default tolerance allows for (default float32: no correct float32 code fails)' },
  tolerance: toleranceSchema,
  timeLimitMs: { type: 'integer', minimum: 1, maximum: 600000, description: 'per case, in ms: from the request to the answer (start-up has its own budget, startupLimitMs); at most 10 minutes' },
  partialCredit: { type: 'boolean', description: 'share of cases passed (true) or all-or-nothing' },
  visibility: { enum: [...VISIBILITIES] },
  feedback: feedbackSchema,
};

export const assignmentSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://cnn-oracle.dev/schemas/assignment.json',
  title: 'Assignment',
  type: 'object',
  required: ['name'],
  anyOf: [{ required: ['tests'] }, { required: ['exercises'] }],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    id: { type: 'string', description: 'seeds the per-student random cases (default: name)' },
    memoryLimitMb: { type: 'integer', minimum: 64, maximum: 65536, description: 'resident memory of all the submission’s processes together, in MiB (default 512)' },
    startupLimitMs: { type: 'integer', minimum: 100, maximum: 600000, description: 'start-up budget of each (re)start of the submission, in ms, apart from the per-case limits (default 10000)' },
    tasksLimit: { type: 'integer', minimum: 8, maximum: 4096, description: 'processes and threads the submission may run at once (default 128)' },
    fileLimitMb: { type: 'integer', minimum: 1, maximum: 4096, description: 'largest file the submission may write, and the size of its scratch folder, in MiB (default 64)' },
    ...common,
    exercises: {
      type: 'array',
      minItems: 1,
      description: 'worked exercises graded from an answer sheet ({"answers": {id: answer}}); the variant is the graded student’s',
      items: {
        type: 'object',
        required: ['id'],
        additionalProperties: false,
        properties: { id: { type: 'string' }, points: { type: 'number', minimum: 0, maximum: 1000000 }, visibility: { enum: [...VISIBILITIES] } },
      },
    },
    exerciseVariant: { enum: ['student', 'published'], description: 'check each answer against the student’s own variant (default) or the notes’ numbers' },
    tests: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['op'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          op: { type: 'string' },
          points: { type: 'number', minimum: 0, maximum: 1000000 },
          cases: { type: 'array', items: { type: 'string' }, description: 'case files or globs, relative to the assignment; cnn-oracle:fixtures/… for the bundled fixtures' },
          random: { type: 'integer', minimum: 0, maximum: 10000, description: 'seeded random cases per student (at most 10000)' },
          mistakes: { type: 'boolean', description: 'add the trigger cases of the known-mistake catalogue' },
          properties: { type: 'array', items: { enum: ['deterministic', 'inputsUnchanged'] } },
          ...common,
        },
      },
    },
  },
} as const;

const validate = compileLazily(assignmentSchema);

type Raw = Record<string, unknown>;

/** Parses and validates an assignment; errors name the JSON path. */
export function parseAssignment(raw: unknown, baseDir: string): Assignment {
  if (!validate(raw)) {
    const { path, message } = schemaError(validate.errors![0]);
    throw new OracleError('INVALID_CASE', `assignment ${message}`, path);
  }
  const a = raw as unknown as Raw;
  const top = (k: string) => a[k];
  const exercises: AssignedExercise[] = ((a.exercises as Raw[] | undefined) ?? []).map((x, i) => {
    try {
      getExercise(x.id as string);
    } catch (e) {
      throw new OracleError('INVALID_CASE', `assignment /exercises/${i}/id: ${(e as Error).message}`, `/exercises/${i}/id`);
    }
    return { id: x.id as string, points: (x.points as number) ?? 1, visibility: ((x.visibility ?? top('visibility') ?? 'visible') as Visibility) };
  });
  if (new Set(exercises.map((x) => x.id)).size !== exercises.length) throw new OracleError('INVALID_CASE', 'assignment /exercises: an exercise is listed twice', '/exercises');
  const tests: TestSpec[] = ((a.tests as Raw[] | undefined) ?? []).map((t, i) => {
    const pick = <T>(k: string, dflt: T): T => (t[k] ?? top(k) ?? dflt) as T;
    let op: OpDef;
    try {
      op = getOp(t.op as string);
    } catch (e) {
      throw new OracleError('UNKNOWN_OP', `assignment /tests/${i}/op: ${(e as Error).message}`, `/tests/${i}/op`);
    }
    const tol = pick<unknown>('tolerance', 'bound');
    const precision = pick<'float32' | 'float64'>('precision', 'float32');
    return {
      name: (t.name as string) ?? op.name,
      op: op.name,
      points: (t.points as number) ?? 1,
      cases: (t.cases as string[]) ?? [],
      random: (t.random as number) ?? 0,
      mistakes: (t.mistakes as boolean) ?? false,
      visibility: pick<Visibility>('visibility', 'visible'),
      timeLimitMs: pick('timeLimitMs', 2000),
      tolerance: tol === 'bound' ? { kind: 'bound', precision } : { kind: 'fixed', ...(tol as object) },
      partialCredit: pick('partialCredit', true),
      properties: (t.properties as TestSpec['properties']) ?? ['inputsUnchanged'],
      feedback: { showInputs: true, showExpected: true, diagnose: true, shrink: true, ...((top('feedback') as object) ?? {}), ...((t.feedback as object) ?? {}) },
    };
  });
  const names = new Set<string>();
  tests.forEach((t, i) => {
    if (names.has(t.name)) throw new OracleError('INVALID_CASE', `assignment /tests/${i}/name: two tests are named ${JSON.stringify(t.name)}`, `/tests/${i}/name`);
    names.add(t.name);
    if (!t.cases.length && !t.random && !t.mistakes) throw new OracleError('INVALID_CASE', `assignment /tests/${i}: test ${t.name} has no cases, random cases or mistake triggers`, `/tests/${i}`);
  });
  const assignment: Assignment = {
    name: a.name as string,
    id: (a.id as string) ?? (a.name as string),
    exercises,
    exerciseVariant: (a.exerciseVariant as Assignment['exerciseVariant']) ?? 'student',
    memoryLimitMb: (a.memoryLimitMb as number) ?? 512,
    startupLimitMs: (a.startupLimitMs as number) ?? 10000,
    tasksLimit: (a.tasksLimit as number) ?? 128,
    fileLimitMb: (a.fileLimitMb as number) ?? 64,
    tests,
    baseDir,
    caseDirs: [],
  };
  assignment.caseDirs = [...new Set(tests.flatMap((t) => caseFiles(assignment, t).map((f) => dirname(f))))];
  return assignment;
}

export function loadAssignment(file: string): Assignment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OracleError('INVALID_CASE', `${file}: cannot read the assignment (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new OracleError('INVALID_JSON', `${file}: not valid JSON (${(e as Error).message})`);
  }
  return { ...parseAssignment(raw, dirname(resolve(file))), file: resolve(file) };
}

/** Case files of a test, globs expanded (sorted, so grading order is stable). */
export function caseFiles(a: Assignment, t: TestSpec): string[] {
  const out: string[] = [];
  for (const pattern of t.cases) {
    const bundled = pattern.startsWith('cnn-oracle:');
    const base = bundled ? PACKAGE_ROOT : a.baseDir;
    const pat = bundled ? pattern.slice('cnn-oracle:'.length) : pattern;
    const files = globSync(pat, { cwd: base, absolute: true, expandDirectories: false }).sort();
    if (!files.length) throw new OracleError('INVALID_CASE', `assignment test ${t.name}: no case file matches ${JSON.stringify(pattern)} (relative to ${base})`);
    out.push(...files);
  }
  return out;
}

export interface GradingCase {
  id: string;
  op: OpDef;
  inputs: Inputs;
  /** Params as written (sent to the submission with defaults filled in). */
  params: Params;
  expected: Outputs;
  /** Which backend computed `expected`: the exact reference, or a float32 backend (`grade --backend`). */
  expectedBy: Backend;
  random: boolean;
  /** For random cases: how to make a variant (shrinking). */
  note?: string;
  tags: string[];
}

async function withExpected(op: OpDef, id: string, inputs: Inputs, params: Params, extra: Partial<GradingCase>, backend: Backend): Promise<GradingCase> {
  const full = resolveParams(op, params);
  // int64 outputs (pool indices) stay exact: float32 rounding of the inputs can create ties
  const fast = backend === 'reference' || op.outputs.some((o) => o.dtype === 'int64') ? undefined : kernelOf(op, backend);
  const expected = fast ? await fast(inputs, full) : op.reference(inputs, full);
  return { id, op, inputs, params: full, expected, expectedBy: fast ? backend : 'reference', random: false, tags: [], ...extra };
}

/**
 * Every case of a test for one student: files, mistake triggers, then seeded random cases. The
 * expected outputs come from `backend` where the op has it (faster on large cases, float32; the
 * ladder then widens each allowance by that backend's float32 bound), else from the reference.
 */
export async function collectCases(a: Assignment, t: TestSpec, student: string, backend: Backend = 'reference'): Promise<GradingCase[]> {
  const op = getOp(t.op);
  const cases: GradingCase[] = [];
  for (const file of caseFiles(a, t)) {
    const rel = relative(a.baseDir, file);
    const raws = parseCases(readFileSync(file, 'utf8'), file);
    for (const rc of raws) {
      if (rc.error) throw new OracleError('INVALID_CASE', `${rel} ${rc.where}: ${rc.error.message}`);
      if ((rc.value as { op?: string })?.op !== t.op) continue;
      try {
        const p = prepareCase(rc.value, rc.index);
        cases.push(await withExpected(op, p.id, p.inputs, p.raw.params ?? {}, { tags: p.raw.tags ?? [], note: p.raw.note }, backend));
      } catch (e) {
        const err = e as OracleError;
        throw new OracleError('INVALID_CASE', `${rel} ${rc.where}${err.path ? ' at ' + err.path : ''}: ${err.message}`);
      }
    }
  }
  if (t.mistakes) {
    for (const m of MISTAKES.filter((k) => k.op === t.op)) {
      const inputs = Object.fromEntries(Object.entries(m.trigger.inputs).map(([k, v]) => [k, fromData(v.data, v.shape)]));
      cases.push(await withExpected(op, `mistake:${m.id}`, inputs, m.trigger.params, { tags: ['mistake-trigger'] }, backend));
    }
  }
  if (t.random) {
    if (!op.generate) throw new OracleError('INVALID_CASE', `assignment test ${t.name}: ${op.name} has no random case generator`);
    const rng = new Rng(`${a.id}/${student}/${t.name}`);
    for (let k = 0; k < t.random; k++) {
      const g = op.generate(rng);
      cases.push(await withExpected(op, `random-${k}`, g.inputs, g.params, { random: true, tags: ['random', ...(g.tags ?? [])] }, backend));
    }
  }
  if (!cases.length) throw new OracleError('INVALID_CASE', `assignment test ${t.name}: its case files hold no ${t.op} case`);
  return cases;
}

/** The built-in assignment: every op of the registry, its bundled fixtures, mistake triggers, 2 random cases per student. */
export function defaultAssignmentJSON(): Raw {
  return {
    name: 'cnn-oracle: every operator',
    id: 'cnn-oracle-default',
    precision: 'float32',
    timeLimitMs: 2000,
    memoryLimitMb: 512,
    partialCredit: true,
    visibility: 'visible',
    tests: allOps().map((op) => ({
      op: op.name,
      points: 1,
      cases: [`cnn-oracle:fixtures/${op.family}/${op.name}.jsonl`],
      ...(op.generate ? { random: 2 } : {}),
      ...(MISTAKES.some((m) => m.op === op.name) ? { mistakes: true } : {}),
    })),
  };
}

export function defaultAssignment(): Assignment {
  return parseAssignment(defaultAssignmentJSON(), PACKAGE_ROOT);
}

