/**
 * The check ladder: exists → returns → shape → dtype → finite → values → properties.
 * The first rung that fails is reported, with one message of its own.
 */
import type { Backend, OpDef, Outputs } from '../registry.js';
import { admissibleFor, allowances, compareArrays, describeMismatch, unitRoundoff, unravel, type Mismatch, type TolerancePolicy } from '../judge/index.js';
import { decodeTensor, shapeString, type Arr, type Tensor, type TensorJSON } from '../tensor.js';
import { flat } from '../reference/common.js';
import { fromBase64, WIRE_DTYPES, type WireTensor } from '../sandbox/runner/wire.js';
import ndarray from 'ndarray';
import type { Outcome } from './process.js';

export const RUNGS = ['exists', 'returns', 'shape', 'dtype', 'finite', 'values', 'properties'] as const;
export type Rung = (typeof RUNGS)[number];


export interface CaseCheck {
  passed: boolean;
  /** The first rung that failed (absent when passed). */
  rung?: Rung;
  message?: string;
  mismatch?: Record<string, Mismatch>;
  /** The outputs received, decoded (when they could be). */
  got?: Record<string, Arr>;
  /** Passed on an admissible alternative (a decision rounding may flip): why the case is ambiguous. */
  ambiguous?: string;
}

/** Decodes an answer's tensor: the JSON form of cases.md, or the binary form of the protocol (wire.ts). */
export function decodeAnswer(t: WireTensor): Tensor {
  if (t && typeof t === 'object' && 'base64' in t) {
    const shape = (t as { shape?: unknown }).shape;
    if (!Array.isArray(shape) || shape.some((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 0)) throw new Error('shape must be an array of non-negative integers');
    const dtype = t.dtype ?? 'float64';
    if (!WIRE_DTYPES.includes(dtype)) throw new Error(`dtype must be one of ${WIRE_DTYPES.join(', ')}`);
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    return { dtype, array: ndarray(fromBase64(t.base64, dtype, n), (shape as number[]).slice()) };
  }
  return decodeTensor(t);
}

/** The inputs the submission changed in place: its runner's copy of their bytes after the call against what was sent. */
function changedInputs(inputs: Outputs, after: Record<string, string> | undefined): string[] {
  if (!after || typeof after !== 'object') return [];
  const changed: string[] = [];
  for (const [k, a] of Object.entries(inputs)) {
    if (typeof after[k] !== 'string') continue;
    let now: Float64Array;
    try {
      now = fromBase64(after[k], 'float64', a.data.length);
    } catch {
      changed.push(k);
      continue;
    }
    const was = a.data;
    for (let i = 0; i < now.length; i++) {
      if (!Object.is(now[i], was[i]) && !(now[i] !== now[i] && was[i] !== was[i])) {
        changed.push(k);
        break;
      }
    }
  }
  return changed;
}

const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x));

/**
 * Climbs the ladder for one case. `expected` are the reference outputs; `outcome` is what the
 * submission process answered.
 */
export function climb(op: OpDef, inputs: Outputs, params: Record<string, unknown>, expected: Outputs, outcome: Outcome, policy: TolerancePolicy, expectedBy: Backend = 'reference'): CaseCheck {
  if (!outcome.ok) {
    const what = outcome.kind === 'timeout' ? 'timed out' : outcome.kind === 'memory' ? 'ran out of memory' : 'crashed';
    return { passed: false, rung: 'returns', message: `${op.name} ${what}: ${outcome.message}` };
  }
  const r = outcome.response;
  if (r.error !== undefined || !r.outputs) {
    const err = typeof r.error === 'string' ? r.error : JSON.stringify(r.error ?? 'no outputs');
    if (r.errorKind === 'missing' || r.errorKind === 'load') return { passed: false, rung: 'exists', message: err };
    return { passed: false, rung: 'returns', message: `${op.name} did not return a result: ${err}` };
  }
  const got: Record<string, Arr> = {};
  const dtypes: Record<string, string> = {};
  for (const name of Object.keys(expected)) {
    const t = r.outputs[name] as TensorJSON | undefined;
    if (!t) return { passed: false, rung: 'shape', message: `no output named ${name} (got ${Object.keys(r.outputs).join(', ') || 'none'})` };
    try {
      const d = decodeAnswer(t as WireTensor);
      got[name] = d.array;
      dtypes[name] = d.dtype;
    } catch (e) {
      const isInt = t.dtype === 'int32' || t.dtype === 'int64';
      return { passed: false, rung: isInt ? 'dtype' : 'shape', message: `output ${name} is not a valid ${isInt ? t.dtype + ' ' : ''}tensor: ${(e as Error).message}` };
    }
  }
  const res = climbValues(op, inputs, params, expected, got, dtypes, r, policy, expectedBy);
  // a decision rounding may flip (issue 13): the answer is judged against the admissible alternative it equals
  if (res.passed || !op.admissible || policy.kind !== 'bound' || !['shape', 'finite', 'values'].includes(res.rung ?? '')) return res;
  const allowed = allowances(op, inputs, params, expected, policy, expectedBy);
  const alt = admissibleFor(op, inputs, params, unitRoundoff(policy.precision), got, (name) => allowed[name] ?? (() => 0));
  if (!alt) return res;
  const again = climbValues(op, inputs, params, { ...expected, ...alt.outputs }, got, dtypes, r, policy, expectedBy, alt.slack);
  return again.passed ? { ...again, ambiguous: alt.why } : res;
}

function climbValues(
  op: OpDef,
  inputs: Outputs,
  params: Record<string, unknown>,
  expected: Outputs,
  got: Record<string, Arr>,
  dtypes: Record<string, string>,
  r: { inputsAfter?: Record<string, string> },
  policy: TolerancePolicy,
  expectedBy: Backend,
  slack?: Record<string, Float64Array>,
): CaseCheck {
  for (const [name, e] of Object.entries(expected)) {
    const g = got[name];
    if (g.shape.length !== e.shape.length || g.shape.some((d, i) => d !== e.shape[i])) {
      return { passed: false, rung: 'shape', message: `${name} has shape ${shapeString(g.shape)}, expected ${shapeString(e.shape)}`, got };
    }
  }
  for (const o of op.outputs) {
    const g = got[o.name];
    if (!g) continue;
    if (o.dtype === 'int64') {
      const bad = flat(g).findIndex((v) => !Number.isInteger(v));
      if (bad >= 0) return { passed: false, rung: 'dtype', message: `${o.name} holds indices and must be integers (int64), but element ${bad} is ${flat(g)[bad]}`, got };
    } else if (dtypes[o.name] === 'bool') {
      return { passed: false, rung: 'dtype', message: `${o.name} came back as bool; a float tensor was expected`, got };
    }
  }
  for (const [name, e] of Object.entries(expected)) {
    const g = flat(got[name]);
    const ed = flat(e);
    for (let i = 0; i < ed.length; i++) {
      const ef = Number.isFinite(ed[i]);
      const gf = Number.isFinite(g[i]);
      if (ef && !gf) return { passed: false, rung: 'finite', message: `${name} is ${fmt(g[i])} at index (${unravel(i, e.shape).join(', ')}) where a finite value (${fmt(ed[i])}) was expected`, got };
      if (!ef && (gf || (Number.isNaN(ed[i]) !== Number.isNaN(g[i])))) {
        return { passed: false, rung: 'finite', message: `${name} is ${fmt(g[i])} at index (${unravel(i, e.shape).join(', ')}) but ${fmt(ed[i])} was expected` , got };
      }
    }
  }
  const allowed = allowances(op, inputs, params, expected, policy, expectedBy);
  for (const [name, extra] of Object.entries(slack ?? {})) {
    const base = allowed[name];
    if (base) allowed[name] = (i, e) => base(i, e) + (extra[i] ?? 0);
  }
  const mismatch: Record<string, Mismatch> = {};
  const problems: string[] = [];
  for (const [name, e] of Object.entries(expected)) {
    const m = compareArrays(got[name], e, allowed[name]);
    mismatch[name] = m;
    if (!m.ok) problems.push(describeMismatch(name, m));
  }
  if (problems.length) return { passed: false, rung: 'values', message: problems.join('\n'), mismatch, got };
  const changed = changedInputs(inputs, r.inputsAfter);
  if (changed.length) {
    return { passed: false, rung: 'properties', message: `${op.name} changed its input${changed.length > 1 ? 's' : ''} ${changed.join(', ')} in place; an operator must not modify its inputs`, mismatch, got };
  }
  return { passed: true, mismatch, got };
}

/** Whether two answers agree exactly (the `deterministic` property). */
export function sameOutputs(a: Record<string, Arr>, b: Record<string, Arr>): boolean {
  return Object.keys(a).every((k) => b[k] && a[k].data.length === b[k].data.length && a[k].data.every((v, i) => Object.is(v, b[k].data[i]) || (Number.isNaN(v) && Number.isNaN(b[k].data[i]))));
}

export const asOutputs = (o: Record<string, TensorJSON>): Outputs => Object.fromEntries(Object.entries(o).map(([k, t]) => [k, decodeTensor(t).array]));
