/**
 * Error bounds and allowances: the unit roundoff of a precision, the bound helpers ops declare
 * their `errorBound` with (γₙ, relative, sum-of-products), and the per-element allowance every
 * judge (`check`, grading, conformance) holds an answer to.
 */
import ops from 'ndarray-ops';
import type { Backend, Inputs, OpDef, Outputs, Precision } from '../registry.js';
import { fromData, zeros, type Arr } from '../tensor.js';
import { flat } from '../reference/common.js';
import { toleranceAllowance, type Tolerance } from './compare.js';

export const UNIT_ROUNDOFF: Record<Precision, number> = { float64: 2 ** -53, float32: 2 ** -24 };

export const unitRoundoff = (precision: Precision): number => UNIT_ROUNDOFF[precision];

/** Elementwise |a|. */
export function absArr(a: Arr): Arr {
  const out = zeros(a.shape);
  if (out.size > 0) ops.abs(out, a);
  return out;
}

/** Elementwise k·u·|y| + atol, for each output. */
export function relativeBound(outputs: Outputs, k: number, u: number, atol = 0): Outputs {
  const res: Outputs = {};
  for (const [name, y] of Object.entries(outputs)) {
    const d = flat(y);
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = k * u * Math.abs(d[i]) + atol;
    res[name] = fromData(out, y.shape);
  }
  return res;
}

/** γₙ = n·u / (1 − n·u): the classic bound on the relative error of an n-term dot product. */
export const gamma = (n: number, u: number): number => (n * u) / (1 - n * u);

/**
 * The bound of a sum-of-products op (conv, linear, transposed conv): γ_{n+1}·(op applied to |inputs|),
 * where n is the largest number of products in one output (plus one for the bias), plus one ulp of
 * the result for the final rounding. `absOf` limits the |·| to the inputs that carry values (not
 * coordinates).
 */
export function dotBound(op: OpDef, inputs: Inputs, params: Record<string, unknown>, outputs: Outputs, u: number, terms: number, absOf?: string[]): Outputs {
  const absIn: Inputs = {};
  for (const [k, v] of Object.entries(inputs)) absIn[k] = !absOf || absOf.includes(k) ? absArr(v) : v;
  const mag = op.reference(absIn, params);
  const res: Outputs = {};
  const g = gamma(terms + 1, u);
  for (const [name, m] of Object.entries(mag)) {
    const md = flat(m);
    const yd = flat(outputs[name] ?? m);
    const out = new Float64Array(md.length);
    for (let i = 0; i < md.length; i++) out[i] = g * md[i] + u * Math.abs(yd[i]);
    res[name] = fromData(out, m.shape);
  }
  return res;
}

/**
 * The default allowance for `check` when a case names no tolerance: the op's error bound at the
 * backend's precision plus its bound at float64 (the expected values may come from another
 * float64 implementation that rounds as it goes).
 */
export function defaultAllowance(op: OpDef, inputs: Inputs, params: Record<string, unknown>, outputs: Outputs, precision: Precision): Outputs {
  const bound = (u: number): Outputs => (op.errorBound ? op.errorBound(inputs, params, outputs, u) : relativeBound(outputs, op.ulps ?? 4, u));
  const a = bound(UNIT_ROUNDOFF[precision]);
  if (precision === 'float64') {
    for (const k of Object.keys(a)) {
      const d = flat(a[k]);
      a[k] = fromData(d.map((v) => 2 * v), a[k].shape);
    }
    return a;
  }
  const b = bound(UNIT_ROUNDOFF.float64);
  for (const k of Object.keys(a)) {
    const da = flat(a[k]);
    const db = flat(b[k]);
    a[k] = fromData(da.map((v, i) => v + db[i]), a[k].shape);
  }
  return a;
}

/** How values are compared: the op's error bound at a precision (default), or fixed tolerances. */
export type TolerancePolicy = { kind: 'bound'; precision: Precision } | ({ kind: 'fixed' } & Tolerance);

/** The op's error bound at a precision, per element of each output (float32 adds the output's own rounding). */
function boundAllowances(op: OpDef, inputs: Outputs, params: Record<string, unknown>, expected: Outputs, precision: Precision): Record<string, (i: number) => number> {
  const res: Record<string, (i: number) => number> = {};
  const a = defaultAllowance(op, inputs, params, expected, precision);
  for (const k of Object.keys(expected)) {
    const d = flat(a[k]);
    const y = flat(expected[k]);
    // at float32 the output itself is rounded once more
    const extra = precision === 'float32' ? 2 ** -24 : 0;
    res[k] = (i) => d[i] + extra * Math.abs(y[i]);
  }
  return res;
}

/**
 * Per-element allowance of each output under a policy. `expectedBy` says who computed `expected`:
 * when a float32 backend did (grade --backend), its own error bound is added, since the exact value
 * may lie that far from it.
 */
export function allowances(op: OpDef, inputs: Outputs, params: Record<string, unknown>, expected: Outputs, policy: TolerancePolicy, expectedBy: Backend = 'reference'): Record<string, (i: number, e: number) => number> {
  let res: Record<string, (i: number, e: number) => number> = {};
  if (policy.kind === 'fixed') {
    for (const k of Object.keys(expected)) res[k] = toleranceAllowance(policy);
  } else res = boundAllowances(op, inputs, params, expected, policy.precision);
  if (expectedBy !== 'reference') {
    const own = boundAllowances(op, inputs, params, expected, 'float32');
    for (const k of Object.keys(res)) {
      const student = res[k];
      res[k] = (i, e) => student(i, e) + own[k](i);
    }
  }
  for (const o of op.outputs) if (o.dtype === 'int64' && res[o.name]) res[o.name] = () => 0;
  return res;
}
