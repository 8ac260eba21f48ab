/**
 * The op registry: every op is declared once, here, and everything else — `eval`, `check`,
 * fixtures, tests, the CLI's `ops` listing — is driven from these declarations.
 */
import type { ErrorObject } from 'ajv';
import { compile, type ValidateFunction } from './json-schema.js';
import { OracleError, ptr } from './errors.js';
import type { Arr, DType, Tensor } from './tensor.js';
import { shapeString } from './tensor.js';
import type { Rng } from './rng.js';
import { chargeElements, checkJson } from './validate.js';
import { BACKENDS, type Backend, type FastBackend } from './backend-names.js';

export type JSONSchema = Record<string, unknown>;
export type Params = Record<string, unknown>;
export type Inputs = Record<string, Arr>;
export type Outputs = Record<string, Arr>;

export interface InputSpec {
  name: string;
  /** `float`: any dtype, read as real numbers; `index`: int64/int32 only; `mask`: 0/1 values. */
  kind?: 'float' | 'index' | 'mask' | 'floatOrIndex';
  optional?: boolean;
  /** Allowed ranks; absent = any. */
  ranks?: number[];
  /** Axes that may have length 0 (a list of boxes may be empty); every other axis needs ≥ 1. */
  emptyAxes?: number[];
  doc: string;
}

export interface ParamSpec {
  name: string;
  schema: JSONSchema;
  /** Absent: the param is required unless `optional` is set. */
  default?: unknown;
  optional?: boolean;
  doc: string;
}

export interface OutputSpec {
  name: string;
  dtype?: 'float64' | 'int64';
  /** Only produced for some params (e.g. `indices` with returnIndices). */
  conditional?: boolean;
  doc: string;
}

export type Precision = 'float64' | 'float32';

export interface GeneratedCase {
  inputs: Inputs;
  params: Params;
  tags?: string[];
}

export interface OpDef<O = unknown> {
  name: string;
  family: string;
  summary: string;
  inputs: InputSpec[];
  params: ParamSpec[];
  outputs: OutputSpec[];
  /** The exact float64 reference. Params arrive validated with defaults filled in. */
  reference(inputs: Inputs, params: Params): Outputs;
  /**
   * The op's part of the one validation path (src/validate.ts): shapes against each other and the
   * params, output sizes and work charged to the budget. Runs before every backend's kernel and
   * before the backward ops built on this op; throws OracleError naming the field.
   */
  validate?(inputs: Inputs, params: Params): void;
  /**
   * The shapes of the outputs the reference returns (name → shape, the conditional ones only when
   * produced), from the input shapes and params alone, for inputs that passed `validate`: what a
   * backward op checks dy against, and the loss's seed dy = 1, without running the forward. Every
   * forward op with a backward op declares one (tests/output-shapes.test.ts checks it against the
   * reference on generated cases).
   */
  outputShapes?(inputs: Inputs, params: Params): Record<string, number[]>;
  /**
   * The largest error a correct implementation at precision `u` (unit roundoff) may make, per
   * element of each output. Absent: `ulps` of the output's magnitude.
   */
  errorBound?(inputs: Inputs, params: Params, outputs: Outputs, u: number): Outputs;
  /** Rounding-error allowance in units of u·|y|, for ops without an errorBound function. */
  ulps?: number;
  /**
   * Set-valued expectations at decision boundaries: the other outputs a correct implementation at
   * unit roundoff u may give where rounding can flip a discrete decision, and why (undefined: none).
   */
  admissible?(inputs: Inputs, params: Params, u: number): Admissible | undefined;
  /** Seeded random case generator (small shapes, readable values). */
  generate?(rng: Rng): GeneratedCase;
  /** Backward ops: the forward op, which forward input each `d<input>` output differentiates, and
   *  the params the forward must run with for the gradient to match (e.g. training statistics). */
  backward?: { forward: string; gradOf: Record<string, string>; forwardParams?: (p: Params) => Params };
  /**
   * The op's params resolved once into its typed options (`defineOp`'s `options`), memoised per
   * params object: the reference, validate, outputShapes, errorBound, admissible, the fast
   * backends' kernels (`kernelFor`), the backward ops, the mistakes and the conformance adapters
   * (`adapterFor`) all read these. Params objects given to it are not mutated afterwards
   * (resolveParams returns fresh clones); schema defaults missing from a partial params object
   * are filled in first.
   */
  opts(params: Params): O;
}

/**
 * An op's declaration with typed options: `options` turns the validated params (defaults filled
 * in) into `O`, the one place that reads them untyped (with the checked readers of params.ts),
 * and `reference`, `validate`, `outputShapes`, `errorBound` and `admissible` receive `O` (and the
 * raw params last, only to call Params-taking functions such as dotBound or another op's
 * reference). Without `options`, `O` is the params themselves.
 */
export interface OpSpec<O> extends Omit<OpDef<O>, 'reference' | 'validate' | 'outputShapes' | 'errorBound' | 'admissible' | 'opts'> {
  options?: (params: Params) => O;
  reference(this: OpDef<O>, inputs: Inputs, o: O, params: Params): Outputs;
  validate?(this: OpDef<O>, inputs: Inputs, o: O, params: Params): void;
  outputShapes?(this: OpDef<O>, inputs: Inputs, o: O, params: Params): Record<string, number[]>;
  errorBound?(this: OpDef<O>, inputs: Inputs, o: O, outputs: Outputs, u: number, params: Params): Outputs;
  admissible?(this: OpDef<O>, inputs: Inputs, o: O, u: number, params: Params): Admissible | undefined;
}

/** `options` memoised per params object (a WeakMap: each call path resolves its params once). */
export function memoOptions<O>(options: (params: Params) => O): (params: Params) => O {
  const memo = new WeakMap<Params, O>();
  return (params) => {
    if (memo.has(params)) return memo.get(params) as O;
    const o = options(params);
    // shared by every reader of these params: frozen, so that none can change it for the others
    if (typeof o === 'object' && o !== null) Object.freeze(o);
    memo.set(params, o);
    return o;
  };
}

/**
 * Declares an op: its spec with typed options becomes the registry's OpDef, whose public functions
 * keep taking Params (resolved once per params object through `opts`).
 */
export function defineOp<O>(spec: OpSpec<O> & { options: (params: Params) => O }): OpDef<O>;
export function defineOp(spec: OpSpec<Params>): OpDef<Params>;
export function defineOp<O>(spec: OpSpec<O>): OpDef<O> {
  const { options, reference, validate, outputShapes, errorBound, admissible, ...rest } = spec;
  // params normally arrive resolved (resolveParams); callers holding a partial params object
  // (tests, scripts) still get the defaults the schema would fill in, as the untyped reads did
  const withDefaults = (p: Params): Params => {
    let out = p;
    for (const s of spec.params) {
      if (p[s.name] !== undefined || s.default === undefined) continue;
      if (out === p) out = { ...p };
      out[s.name] = s.default;
    }
    return out;
  };
  const opts = options ? memoOptions((p: Params) => options(withDefaults(p))) : (p: Params) => p as O;
  const def: OpDef<O> = {
    ...rest,
    opts,
    reference: (inputs, params) => reference.call(def, inputs, opts(params), params),
    ...(validate ? { validate: (inputs: Inputs, params: Params) => validate.call(def, inputs, opts(params), params) } : {}),
    ...(outputShapes ? { outputShapes: (inputs: Inputs, params: Params) => outputShapes.call(def, inputs, opts(params), params) } : {}),
    ...(errorBound ? { errorBound: (inputs: Inputs, params: Params, outputs: Outputs, u: number) => errorBound.call(def, inputs, opts(params), outputs, u, params) } : {}),
    ...(admissible ? { admissible: (inputs: Inputs, params: Params, u: number) => admissible.call(def, inputs, opts(params), u, params) } : {}),
  };
  return def;
}

/**
 * What rounding at a judged precision may flip (src/judge/admissible.ts): whole alternative outputs (NMS
 * keep sets), and/or independent blocks of one output, each a set of element positions that may
 * take any of its value vectors (the exact one first) — one block per RoI of roiAlign, per window
 * of maxPool's indices — so that variants combine block by block without enumerating products.
 * A block marked `any` admits every value (where the output is mathematically undefined).
 */
export interface Admissible {
  outputs: Outputs[];
  blocks?: AdmissibleBlock[];
  why: string;
}
export interface AdmissibleBlock {
  /** The output the block belongs to. */
  name: string;
  /** Flat positions in that output. */
  at: number[];
  /** Admissible values at those positions, one vector per variant (the exact one first); empty when `any`. */
  values: Float64Array[];
  /**
   * Every value is admissible at these positions, NaN and ±∞ included: the output is undefined
   * there (batchNormBackward's dx and dweight of a channel with σ = 0: the reference's 0/0 = NaN
   * and PyTorch's 0 are both answers). `values` and `slack` are then ignored.
   */
  any?: true;
  /**
   * Per variant, what its own error bound adds to the exact output's allowance at each position
   * (a RoIAlign sample kept where the exact one drops it brings its own rounding); absent: nothing.
   */
  slack?: Float64Array[];
}

export { BACKENDS, FAST_BACKENDS, type Backend, type FastBackend } from './backend-names.js';

/** One op of a fast backend: the registry's inputs and resolved params in, outputs (float64 ndarrays) out. */
export type Kernel = (inputs: Inputs, params: Params) => Outputs | Promise<Outputs>;
/** The op each kernel made by `kernelFor` belongs to (registerBackend checks it against the table's key). */
const kernelOps = new WeakMap<Kernel, string>();
/**
 * A fast backend's kernel typed by its op: it receives the op's options (`op.opts`, resolved once
 * per params object) instead of the raw params.
 */
export function kernelFor<O>(op: OpDef<O>, run: (inputs: Inputs, o: O) => Outputs | Promise<Outputs>): Kernel {
  const k: Kernel = (inputs, params) => run(inputs, op.opts(params));
  kernelOps.set(k, op.name);
  return k;
}
/** A fast backend's table, op name → kernel; the backend registers it itself (src/ops/simd.ts, accelerated.ts). */
export type KernelTable = Readonly<Record<string, Kernel>>;
const backendTables = new Map<FastBackend, KernelTable>();

/** Registers a fast backend's whole table (once); every name must be a registered op. */
export function registerBackend(backend: FastBackend, table: KernelTable): void {
  if (backendTables.has(backend)) throw new Error(`backend ${backend} registered twice`);
  const validated: Record<string, Kernel> = {};
  for (const [name, kernel] of Object.entries(table)) {
    const op = getOp(name);
    const of = kernelOps.get(kernel);
    if (of !== undefined && of !== name) throw new Error(`backend ${backend}: the kernel registered as ${name} is ${of}'s`);
    // every kernel behind the one validation path, as the reference is (register)
    validated[name] = (inputs, params) => {
      checkCall(op, inputs, params);
      return kernel(inputs, params);
    };
  }
  backendTables.set(backend, validated);
}

/** The backend's kernel for an op (behind the one validation path), if it has one. */
export function kernelOf(op: OpDef | string, backend: FastBackend): Kernel | undefined {
  const t = backendTables.get(backend);
  const name = typeof op === 'string' ? op : op.name;
  return t && Object.hasOwn(t, name) ? t[name] : undefined;
}

/** The ops a fast backend implements, in registry order: derived from its table, never listed by hand. */
export function backendOps(backend: FastBackend): string[] {
  return [...registry.keys()].filter((n) => kernelOf(n, backend));
}

/** The backends that implement an op, the reference first. */
export function backendsOf(op: OpDef): Backend[] {
  return BACKENDS.filter((b) => b === 'reference' || kernelOf(op, b));
}

const registry = new Map<string, OpDef>();
const validators = new Map<string, ValidateFunction>();

/**
 * Registers ops. The reference is wrapped so that every call, from any caller, first goes
 * through the one validation path (`checkCall`); fast backends get the same through `registerBackend`.
 */
export function register(...ops: OpDef[]): void {
  for (const op of ops) {
    if (registry.has(op.name)) throw new Error(`op ${op.name} registered twice`);
    const reference = op.reference;
    op.reference = (inputs, params) => {
      checkCall(op, inputs, params);
      return reference.call(op, inputs, params);
    };
    registry.set(op.name, op);
  }
}

/** The one validation path: the generic input checks, then the op's own `validate`. */
export function checkCall(op: OpDef, inputs: Inputs, params: Params): void {
  for (const spec of op.inputs) {
    const a = inputs[spec.name];
    if (!a) continue;
    chargeElements(a.shape, `input ${spec.name}`, ptr('inputs', spec.name, 'shape'));
    a.shape.forEach((d, axis) => {
      if (d === 0 && !spec.emptyAxes?.includes(axis)) {
        throw new OracleError(
          'INVALID_INPUTS',
          `${op.name}: input ${spec.name} has length 0 along axis ${axis} (shape ${shapeString(a.shape)}); every axis needs at least one element`,
          ptr('inputs', spec.name, 'shape', axis),
        );
      }
    });
  }
  op.validate?.(inputs, params);
}

export function getOp(name: string): OpDef {
  const op = registry.get(name);
  if (!op) {
    const near = [...registry.keys()].filter((k) => k.toLowerCase() === name.toLowerCase());
    const hint = near.length ? ` (did you mean ${near[0]}?)` : '';
    throw new OracleError('UNKNOWN_OP', `unknown op ${JSON.stringify(name)}${hint}; \`cnn-oracle ops\` lists them`, '/op');
  }
  return op;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

/**
 * Every op, family by family in the order the families were first registered, the backward ops
 * last (each family file registers its backward ops beside its forward ops; they are listed after
 * every forward op, in their forward ops' order).
 */
export function allOps(): OpDef[] {
  const ops = [...registry.values()];
  const families = [...new Set(ops.map((o) => o.family))].sort((a, b) => Number(a === 'backward') - Number(b === 'backward'));
  return families.flatMap((f) => ops.filter((o) => o.family === f));
}

/** The JSON Schema of an op's `params` object. */
export function paramsSchema(op: OpDef): JSONSchema {
  const properties: Record<string, JSONSchema> = {};
  for (const p of op.params) properties[p.name] = { ...p.schema, description: p.doc, ...(p.default !== undefined ? { default: p.default } : {}) };
  return {
    type: 'object',
    properties,
    required: op.params.filter((p) => p.default === undefined && !p.optional).map((p) => p.name),
    additionalProperties: false,
  };
}

function paramValidator(op: OpDef): ValidateFunction {
  const known = validators.get(op.name);
  if (known) return known;
  const v = compile(paramsSchema(op));
  validators.set(op.name, v);
  return v;
}

function ajvMessage(op: OpDef, e: ErrorObject): { path: string; message: string } {
  const base = '/params' + e.instancePath;
  const name = e.instancePath.split('/')[1];
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { path: base + '/' + missing, message: `${op.name}: param ${missing} is required` };
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const known = op.params.map((p) => p.name).join(', ') || 'none';
    return { path: base + '/' + extra, message: `${op.name}: unknown param ${extra} (params: ${known})` };
  }
  const spec = op.params.find((p) => p.name === name);
  const expected = spec ? describeSchema(spec.schema) : e.message;
  return { path: base, message: `${op.name}: param ${e.instancePath.slice(1).replace(/\//g, '.')} must be ${expected}` };
}

/** A short English description of a param schema, for error messages. */
export function describeSchema(s: JSONSchema): string {
  if (s.title) return String(s.title);
  if (Array.isArray(s.enum)) return 'one of ' + (s.enum as unknown[]).map((x) => JSON.stringify(x)).join(', ');
  if (s.type === 'integer') return s.minimum !== undefined ? `an integer ≥ ${String(s.minimum)}` : 'an integer';
  if (s.type === 'number') return 'a number' + (s.minimum !== undefined ? ` ≥ ${String(s.minimum)}` : '');
  if (s.type === 'boolean') return 'true or false';
  return 'valid';
}

/** Validates params against the op's schema and fills in defaults. Throws OracleError. */
export function resolveParams(op: OpDef, params: unknown): Params {
  const given = params ?? {};
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new OracleError('INVALID_PARAMS', `${op.name}: params must be an object`, '/params');
  }
  checkJson(given, '/params');
  const v = paramValidator(op);
  if (!v(given)) {
    const { path, message } = ajvMessage(op, v.errors![0]);
    throw new OracleError('INVALID_PARAMS', message, path);
  }
  const out: Params = {};
  for (const p of op.params) {
    const val = (given as Params)[p.name];
    out[p.name] = val !== undefined ? structuredClone(val) : structuredClone(p.default);
  }
  return out;
}

const INDEX_DTYPES: DType[] = ['int64', 'int32'];

/** Checks presence, dtype kind and rank of each input. Throws OracleError naming `/inputs/NAME`. */
export function resolveInputs(op: OpDef, inputs: Record<string, Tensor | undefined>): Inputs {
  const out: Inputs = {};
  for (const name of Object.keys(inputs)) {
    if (!op.inputs.some((s) => s.name === name)) {
      const known = op.inputs.map((s) => s.name).join(', ');
      throw new OracleError('INVALID_INPUTS', `${op.name}: unknown input ${name} (inputs: ${known})`, ptr('inputs', name));
    }
  }
  for (const spec of op.inputs) {
    const t = inputs[spec.name];
    if (!t) {
      if (spec.optional) continue;
      throw new OracleError('INVALID_INPUTS', `${op.name}: input ${spec.name} is required`, ptr('inputs', spec.name));
    }
    const path = ptr('inputs', spec.name);
    if (spec.kind === 'index' && !INDEX_DTYPES.includes(t.dtype)) {
      throw new OracleError('INVALID_INPUTS', `${op.name}: input ${spec.name} must have dtype int64 or int32, got ${t.dtype}`, path + '/dtype');
    }
    if (spec.ranks && !spec.ranks.includes(t.array.shape.length)) {
      throw new OracleError(
        'INVALID_INPUTS',
        `${op.name}: input ${spec.name} must have rank ${spec.ranks.join(' or ')}, got shape ${shapeString(t.array.shape)}`,
        path + '/shape',
      );
    }
    out[spec.name] = t.array;
  }
  return out;
}
