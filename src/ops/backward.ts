/**
 * How a backward op is derived from its forward op's declaration: inputs = the forward inputs plus
 * `dy`, params = the forward params, outputs = `d<input>`, validation = the forward's. Each family
 * file (conv.ts, pooling.ts, …) declares its backward ops beside their forward ops with
 * `backwardOf(forward, spec)` and registers both together; the gradients themselves are in the
 * family's reference file, beside the forward formula.
 */
import { resolveParams, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { flat } from '../reference/common.js';
import { fromData, numel, shapeString, type Arr } from '../tensor.js';
import { invalidInputs } from '../errors.js';
import { input, randTensor } from './helpers.js';


/**
 * Error of a backward output at precision u: the gradients are sums of products of dy with forward
 * quantities, so K·u·(|g| + max|g|) with K growing with the number of terms.
 */
function gradBound(o: Outputs, u: number, terms: number): Outputs {
  const res: Outputs = {};
  for (const [k, a] of Object.entries(o)) {
    const d = flat(a);
    let m = 0;
    for (const v of d) m = Math.max(m, Math.abs(v));
    res[k] = fromData(d.map((v) => (terms + 16) * u * (Math.abs(v) + m)), a.shape);
  }
  return res;
}

export interface BackwardSpec {
  /** Output name → forward input it differentiates. */
  gradOf: Record<string, string>;
  reference(inputs: Inputs, params: Params): Outputs;
  /** Params the forward must run with (gradient checking, case generation). */
  forwardParams?: (p: Params) => Params;
  summary?: string;
  /** Losses: dy may be left out and is then 1 (ones of the loss's shape), the seed of loss.backward(). */
  dyOptional?: boolean;
}

export function backwardOf(fwd: OpDef, spec: BackwardSpec): OpDef {
  const outName = fwd.outputs[0].name;
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
          if (i.dy) return spec.reference(i, p);
          const shape = fwd.reference(i, p)[outName].shape;
          return spec.reference({ ...i, dy: fromData(new Float64Array(numel(shape)).fill(1), shape) }, p);
        }
      : spec.reference,
    /**
     * A backward op is validated by its forward op: the forward runs on the same inputs and params
     * (so every shape, param and budget rule of the forward holds) and dy must have the shape of
     * its output.
     */
    validate(i, p) {
      const fwdInputs: Inputs = {};
      for (const s of fwd.inputs) if (i[s.name]) fwdInputs[s.name] = i[s.name];
      const y = fwd.reference(fwdInputs, spec.forwardParams ? spec.forwardParams(p) : p)[outName];
      if (i.dy && y && shapeString(i.dy.shape) !== shapeString(y.shape)) {
        throw invalidInputs('/inputs/dy/shape', `dy must have the shape of the forward output ${shapeString(y.shape)} (${fwd.name}'s ${outName}); got ${shapeString(i.dy.shape)}`);
      }
    },
    errorBound: (i, p, o, u) => gradBound(o, u, (i.dy ? numel(i.dy.shape) : Math.max(...Object.values(o).map((a) => numel(a.shape)))) + Math.max(...Object.values(spec.gradOf).map((k) => (i[k] ? numel(i[k].shape) : 0)))),
    backward: { forward: fwd.name, gradOf: spec.gradOf, forwardParams: spec.forwardParams },
    generate(rng) {
      const g = fwd.generate!(rng);
      const params = spec.forwardParams ? spec.forwardParams(g.params) : g.params;
      const out = fwd.reference(g.inputs, resolveParams(fwd, params));
      return { inputs: { ...g.inputs, dy: randTensor(rng, out[outName].shape, 2) }, params, tags: g.tags };
    },
  };
}

/** conv/linear gradients as registry outputs. */
export const convOut = (r: { dx: Arr; dweight: Arr; dbias: Arr }): Outputs => ({ dx: r.dx, dweight: r.dweight, dbias: r.dbias });

/** dweight/dbias of a normalisation, shaped like γ (all ones / zeros when γ, β are absent). */
export function normOut(x: Arr, r: { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array }, affineShape: number[]): Outputs {
  return { dx: fromData(r.dx, x.shape), dweight: fromData(r.dgamma, affineShape), dbias: fromData(r.dbeta, affineShape) };
}
