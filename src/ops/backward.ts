/**
 * How a backward op is derived from its forward op's declaration: inputs = the forward inputs plus
 * `dy`, params = the forward params, outputs = `d<input>`, validation = the forward's. Each family
 * file (conv.ts, pooling.ts, …) declares its backward ops beside their forward ops with
 * `backwardOf(forward, spec)` and registers both together; the gradients themselves are in the
 * family's reference file, beside the forward formula.
 */
import { resolveParams, type Admissible, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { flat } from '../reference/common.js';
import { fromData, numel, shapeString, type Arr } from '../tensor.js';
import { invalidInputs } from '../errors.js';
import { input, randTensor } from './helpers.js';


/**
 * Error of a backward output at precision u: the gradients are sums of products of dy with forward
 * quantities, so K·u·(|g| + max|g|) with K growing with the number of terms. The max is over the
 * finite elements: one undefined (NaN) gradient must not make every other element's allowance NaN,
 * which would accept any value (batchNormBackward's σ = 0 channel beside normal ones).
 */
function gradBound(o: Outputs, u: number, terms: number): Outputs {
  const res: Outputs = {};
  for (const [k, a] of Object.entries(o)) {
    const d = flat(a);
    let m = 0;
    for (const v of d) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
    res[k] = fromData(d.map((v) => (terms + 16) * u * (Math.abs(v) + m)), a.shape);
  }
  return res;
}

/** A backward op's declaration; `O` is its forward op's options (`fwd.opts`), which it receives. */
export interface BackwardSpec<O = Params> {
  /** Output name → forward input it differentiates. */
  gradOf: Record<string, string>;
  /** The gradients, from the forward's options (the raw params last, to call the forward itself). */
  reference(inputs: Inputs, o: O, params: Params): Outputs;
  /** Params the forward must run with (gradient checking, case generation). */
  forwardParams?: (p: Params) => Params;
  summary?: string;
  /** Losses: dy may be left out and is then 1 (ones of the loss's shape), the seed of loss.backward(). */
  dyOptional?: boolean;
  /**
   * Where the gradient is a difference of larger terms (normalisations, tanh, sigmoid, softmax,
   * cross-entropy), what a correct implementation may be off by beyond gradBound: rounding
   * relative to those terms, not to the (possibly much smaller) result. Added to gradBound.
   */
  cancellation?: (i: Inputs, o: O, u: number) => Outputs;
  /** Set-valued expectations of the gradients (OpDef.admissible), from the forward's options. */
  admissible?: (i: Inputs, o: O, u: number) => Admissible | undefined;
}

/** Adds the per-element allowances of `b` to those of `a` (same keys and shapes). */
function addBounds(a: Outputs, b: Outputs): Outputs {
  const out: Outputs = {};
  for (const [k, x] of Object.entries(a)) {
    const y = b[k] ? flat(b[k]) : undefined;
    out[k] = y ? fromData(flat(x).map((v, j) => v + y[j]), x.shape) : x;
  }
  return out;
}

/**
 * The cancellation bound of a normalisation's gradient, per group of n members with mean μ and
 * σ = √(var + eps), g = dy·γ:
 *   dx = (g − mean g − x̂·mean(g·x̂)) / σ,  dγ = Σ dy·x̂,  dβ = Σ dy.
 * x̂ = (x − μ)/σ carries an absolute error of about u·S with S = max(|x| + |μ|)/σ over the group
 * (μ is rounded relative to |x|, not to |x − μ|), and frameworks form dx as a·g + b·x + c, whose
 * terms reach mean|g|·S²/σ (PyTorch's CPU kernels), so a correct float implementation may be
 * off by K·u·(|g| + (1 + S²)·mean|g|)/σ in dx and K·u·Σ|dy|·(|x̂| + S) in dγ, K = n + 16. The
 * reference itself rounds the last subtraction, so it needs the same allowance at float64.
 */
export function normCancellation(x: Float64Array, dy: Float64Array, groups: number, n: number, member: (grp: number, k: number) => number, eps: number, gamma: Float64Array | undefined, affine: (t: number) => number, affineSize: number, u: number, xShape: number[], affineShape: number[]): Outputs {
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(affineSize);
  const K = n + 16;
  for (let grp = 0; grp < groups; grp++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += x[member(grp, k)];
    mean /= n;
    let v = 0;
    for (let k = 0; k < n; k++) v += (x[member(grp, k)] - mean) ** 2;
    const sigma = Math.sqrt(v / n + eps);
    let S = 0;
    let meanG = 0;
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      S = Math.max(S, (Math.abs(x[t]) + Math.abs(mean)) / sigma);
      meanG += Math.abs(dy[t] * (gamma ? gamma[affine(t)] : 1));
    }
    meanG /= n;
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      const g = Math.abs(dy[t] * (gamma ? gamma[affine(t)] : 1));
      dx[t] = (K * u * (g + (1 + S * S) * meanG)) / sigma;
      dw[affine(t)] += K * u * Math.abs(dy[t]) * (Math.abs(x[t] - mean) / sigma + S);
    }
  }
  return { dx: fromData(dx, xShape), dweight: fromData(dw, affineShape) };
}

/**
 * sigmoid′ = y·(1 − y) and tanh′ = 1 − y² are formed from the rounded forward output y, as every
 * framework does: 1 − y loses u·|y| absolutely, 1 − y² about 2u·y², so near saturation a correct
 * float implementation is off by 16u·|dy|·f(y), f = y·(1 + y) (sigmoid) or 1 + y² (tanh), far
 * more than relative to the tiny derivative.
 */
export const elementwiseCancellation =
  (f: (y: number) => number, y: (x: Arr) => Arr) =>
  (i: Inputs, _o: unknown, u: number): Outputs => {
    const yd = flat(y(i.x));
    const g = flat(i.dy);
    return { dx: fromData(yd.map((v, k) => 16 * u * Math.abs(g[k]) * f(v)), i.x.shape) };
  };

/** The forward's own inputs among a backward op's. */
function forwardInputs(fwd: OpDef, i: Inputs): Inputs {
  const out: Inputs = {};
  for (const s of fwd.inputs) if (i[s.name]) out[s.name] = i[s.name];
  return out;
}

/**
 * The shape of the forward output that dy stands for: from the forward's `outputShapes`, without
 * any arithmetic; a forward op without a shape function runs its reference. Undefined when the
 * forward does not produce that output.
 */
function forwardOutShape(fwd: OpDef, outName: string, i: Inputs, p: Params): number[] | undefined {
  const fwdInputs = forwardInputs(fwd, i);
  return fwd.outputShapes ? fwd.outputShapes(fwdInputs, p)[outName] : fwd.reference(fwdInputs, p)[outName]?.shape;
}

export function backwardOf<O>(fwd: OpDef<O>, spec: BackwardSpec<O>): OpDef<O> {
  const outName = fwd.outputs[0].name;
  const fwdParams = (p: Params) => (spec.forwardParams ? spec.forwardParams(p) : p);
  // the backward op takes the forward's params, so it resolves them with the forward's (memoised) opts
  const reference = (i: Inputs, p: Params): Outputs => spec.reference(i, fwd.opts(p), p);
  return {
    name: `${fwd.name}Backward`,
    family: 'backward',
    summary: spec.summary ?? `gradients of ${fwd.name} (${Object.keys(spec.gradOf).join(', ')})`,
    inputs: [
      ...fwd.inputs,
      spec.dyOptional
        ? { ...input('dy', `gradient w.r.t. the forward output ${outName} (its shape); optional, default 1 (ones), the seed of loss.backward()`), optional: true }
        : input('dy', `gradient of the loss w.r.t. the forward output ${outName} (its shape)`),
    ],
    params: fwd.params,
    outputs: Object.entries(spec.gradOf).map(([name, of]) => ({ name, doc: `∂L/∂${of}, shape of ${of}` })),
    reference: spec.dyOptional
      ? (i, p) => {
          if (i.dy) return reference(i, p);
          const shape = forwardOutShape(fwd, outName, i, fwdParams(p))!;
          return reference({ ...i, dy: fromData(new Float64Array(numel(shape)).fill(1), shape) }, p);
        }
      : reference,
    /**
     * A backward op is validated by its forward op: the forward's validation on the same inputs
     * and params (so every shape, param and budget rule of the forward holds), and dy must have
     * the shape of its output (forwardOutShape: the forward's shape function, not its reference).
     */
    validate(i, p) {
      // the forward's validate (a reference run, the fallback below, validates on its own); the
      // generic input checks already ran for the backward op, whose inputs include the forward's
      if (fwd.outputShapes) fwd.validate?.(forwardInputs(fwd, i), fwdParams(p));
      const shape = forwardOutShape(fwd, outName, i, fwdParams(p));
      if (i.dy && shape && shapeString(i.dy.shape) !== shapeString(shape)) {
        throw invalidInputs('/inputs/dy/shape', `dy must have the shape of the forward output ${shapeString(shape)} (${fwd.name}'s ${outName}); got ${shapeString(i.dy.shape)}`);
      }
    },
    errorBound(i, p, o, u) {
      const terms = (i.dy ? numel(i.dy.shape) : Math.max(...Object.values(o).map((a) => numel(a.shape)))) + Math.max(...Object.values(spec.gradOf).map((k) => (i[k] ? numel(i[k].shape) : 0)));
      const g = gradBound(o, u, terms);
      return spec.cancellation ? addBounds(g, spec.cancellation(i, fwd.opts(p), u)) : g;
    },
    ...(spec.admissible ? { admissible: (i: Inputs, p: Params, u: number) => spec.admissible!(i, fwd.opts(p), u) } : {}),
    backward: { forward: fwd.name, gradOf: spec.gradOf, forwardParams: spec.forwardParams },
    opts: fwd.opts,
    generate(rng) {
      const g = fwd.generate!(rng);
      const params = spec.forwardParams ? spec.forwardParams(g.params) : g.params;
      const shape = forwardOutShape(fwd, outName, g.inputs, resolveParams(fwd, params))!;
      return { inputs: { ...g.inputs, dy: randTensor(rng, shape, 2) }, params, tags: g.tags };
    },
  };
}

/** conv/linear gradients as registry outputs. */
export const convOut = (r: { dx: Arr; dweight: Arr; dbias: Arr }): Outputs => ({ dx: r.dx, dweight: r.dweight, dbias: r.dbias });

/** dweight/dbias of a normalisation, shaped like γ (all ones / zeros when γ, β are absent). */
export function normOut(x: Arr, r: { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array }, affineShape: number[]): Outputs {
  return { dx: fromData(r.dx, x.shape), dweight: fromData(r.dgamma, affineShape), dbias: fromData(r.dbeta, affineShape) };
}
