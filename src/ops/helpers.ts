/** Helpers for declaring ops: input specs, error bounds, random tensors. */
import type { Arr } from '../tensor.js';
import ops from 'ndarray-ops';
import { fromData, numel, zeros } from '../tensor.js';
import type { Admissible, InputSpec, Inputs, OpDef, Outputs } from '../registry.js';
import { ambiguityReason } from '../ambiguity.js';
import { CAP, type Boundaries } from '../reference/boundaries.js';
import type { Rng } from '../rng.js';
import { flat } from '../reference/common.js';

export const input = (name: string, doc: string, ranks?: number[], extra: Partial<InputSpec> = {}): InputSpec => ({
  name,
  doc,
  kind: 'float',
  ...(ranks ? { ranks } : {}),
  ...extra,
});

export const optional = (name: string, doc: string, ranks?: number[]): InputSpec => input(name, doc, ranks, { optional: true });

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

/** A random tensor of small dyadic values (exact in float32, easy to read). */
export function randTensor(rng: Rng, shape: number[], range = 4): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.dyadic(range);
  return fromData(d, shape);
}

/** A random tensor of float32 values with full mantissas (for exactness tests). */
export function randFloat32Tensor(rng: Rng, shape: number[], range = 1): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.float32(range);
  return fromData(d, shape);
}

export function randIndexTensor(rng: Rng, shape: number[], lo: number, hi: number): Arr {
  const n = numel(shape);
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = rng.int(lo, hi);
  return fromData(d, shape);
}

/** An op's admissible blocks from a boundaries analysis (src/reference/boundaries.ts), with its reason; none when nothing can flip. */
export function boundaryAlternatives(b: Boundaries): Admissible | undefined {
  if (!b.blocks.length) return undefined;
  return { outputs: [], blocks: b.blocks, why: ambiguityReason(b.reasons, b.capped ? `variants bounded at ${CAP} per block; the other ambiguous decisions take their exact outcome` : undefined) };
}
