/**
 * A gradient checker: compares a backward op's analytic gradients with central differences of
 * the forward reference, in float64.
 *
 * For a backward op with forward f, upstream gradient dy and an input element x_i, the numeric
 * gradient of the scalar L(x) = ⟨f(x), dy⟩ (summed exactly) is
 *
 *   n_i = (L(x + h·e_i) − L(x − h·e_i)) / 2h,   h = step·max(1, |x_i|),
 *
 * and the error is |a_i − n_i| / max(|a_i| + |n_i|, 1e-8) (CS231n's relative error), reported as
 * its maximum with its index. A disagreement within the resolution of the difference itself,
 * R = 16·u·Σ|y_j·dy_j| / h (the forward's rounding seen through the step), counts as agreement:
 * the finite difference cannot tell such gradients apart (e.g. a true 0 against a numeric 1e-10). Where the one-sided differences disagree (a kink: ReLU at 0, ties
 * in a max, an RoI bin edge) the element is flagged and left out of the maximum.
 */
import { ExactSum } from './exact.js';
import { getOp, resolveParams, type Inputs, type OpDef, type Params } from './registry.js';
import { fromData } from './tensor.js';
import { flat } from './reference/common.js';
import { unravel } from './judge/compare.js';

export interface GradCheckEntry {
  /** The gradient output, e.g. `dx`. */
  output: string;
  /** The forward input it differentiates, e.g. `x`. */
  input: string;
  maxRelError: number;
  /** Index of the worst element (in the input's shape). */
  index: number[];
  analytic: number;
  numeric: number;
  /** Elements compared and elements skipped as kinks. */
  checked: number;
  kinks: number;
}

export interface GradCheckOptions {
  /** Relative step (default 1e-6). */
  step?: number;
  /** Check at most this many elements per input (evenly spread; default all). */
  maxElements?: number;
}

/** L = ⟨first output of forward, dy⟩, exact; with Σ|y·dy| when `scale` is asked for. */
function loss(fwd: OpDef, inputs: Inputs, params: Params, dy: Float64Array, scale?: { value: number }): number {
  const out = fwd.reference(inputs, params);
  const y = flat(out[fwd.outputs[0].name]);
  const acc = new ExactSum();
  for (let i = 0; i < y.length; i++) acc.addProduct(y[i], dy[i]);
  if (scale) {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += Math.abs(y[i] * dy[i]);
    scale.value = s;
  }
  return acc.value();
}

/** Checks every gradient output of a backward op on one case. Params are the op's (resolved). */
export function gradCheck(op: OpDef, inputs: Inputs, params: Params, opts: GradCheckOptions = {}): GradCheckEntry[] {
  if (!op.backward) throw new Error(`${op.name} is not a backward op`);
  const fwd = getOp(op.backward.forward);
  const fwdParams = resolveParams(fwd, Object.fromEntries(Object.entries(op.backward.forwardParams ? op.backward.forwardParams(params) : params).filter(([k]) => fwd.params.some((p) => p.name === k))));
  const analytic = op.reference(inputs, params);
  const dy = flat(inputs.dy);
  const fwdInputs: Inputs = Object.fromEntries(Object.entries(inputs).filter(([k]) => k !== 'dy'));
  const step = opts.step ?? 1e-6;
  const results: GradCheckEntry[] = [];
  for (const [output, inputName] of Object.entries(op.backward.gradOf)) {
    const x = fwdInputs[inputName];
    const a = analytic[output];
    if (!x || !a) continue;
    const base = flat(x).slice();
    const ad = flat(a);
    const n = base.length;
    const stride = opts.maxElements && n > opts.maxElements ? n / opts.maxElements : 1;
    const entry: GradCheckEntry = { output, input: inputName, maxRelError: 0, index: [], analytic: 0, numeric: 0, checked: 0, kinks: 0 };
    const evalAt = (i: number, v: number) => {
      const d = base.slice();
      d[i] = v;
      return loss(fwd, { ...fwdInputs, [inputName]: fromData(d, x.shape) }, fwdParams, dy);
    };
    const scale = { value: 0 };
    const l0 = loss(fwd, fwdInputs, fwdParams, dy, scale);
    for (let f = 0; f < n; f += stride) {
      const i = Math.floor(f);
      const h = step * Math.max(1, Math.abs(base[i]));
      const lp = evalAt(i, base[i] + h);
      const lm = evalAt(i, base[i] - h);
      const num = (lp - lm) / (2 * h);
      const right = (lp - l0) / h;
      const left = (l0 - lm) / h;
      if (Math.abs(right - left) > 1e-3 * (Math.abs(right) + Math.abs(left)) + 1e-5) {
        entry.kinks++;
        continue;
      }
      entry.checked++;
      const resolution = (16 * 2 ** -53 * scale.value) / h;
      const diff = Math.abs(ad[i] - num);
      const err = diff <= resolution ? 0 : diff / Math.max(Math.abs(ad[i]) + Math.abs(num), 1e-8);
      if (err > entry.maxRelError || entry.index.length === 0) {
        entry.maxRelError = err;
        entry.index = unravel(i, x.shape);
        entry.analytic = ad[i];
        entry.numeric = num;
      }
    }
    results.push(entry);
  }
  return results;
}
