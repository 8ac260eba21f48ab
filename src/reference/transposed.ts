/** Exact reference: transposed convolution (1-D and 2-D), written as the scatter of the definition. */
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { as1d, as2d, lift1d, transposedOutSize, type Pads } from '../geometry.js';
import { checkDy, flat, ScatterSum } from './common.js';
import { conv2dRef, convBackwardSums, type ConvGeometry } from './conv.js';

export interface TransposedGeometry {
  stride: number[];
  dilation: number[];
  pads: Pads;
  outputPadding: number[];
  groups: number;
}

const AXES = ['height', 'width'];

export { transposedOutSize } from '../geometry.js';

/**
 * Validates x [N, C, H, W], weight [C, O/g, kh, kw], bias [O] and the geometry of a transposed conv
 * (outputPadding smaller than the stride or the dilation, a non-empty output) and returns the
 * output size [H_out, W_out]. Shared by the reference, its backward pass and the accelerated kernel.
 */
export function transposedShape(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): [number, number] {
  const [, C, H, W] = x.shape;
  const [wc, Og, kh, kw] = w.shape;
  const G = g.groups;
  if (wc !== C) throw invalidInputs('/inputs/weight/shape/0', `weight.shape[0] must equal the ${C} input channels of x (weight is [C, O/groups, kh, kw]), got ${wc}`);
  if (C % G !== 0) throw invalidParams('/params/groups', `groups = ${G} must divide the ${C} input channels of x`);
  const O = Og * G;
  if (b && (b.shape.length !== 1 || b.shape[0] !== O)) throw invalidInputs('/inputs/bias/shape', `bias must have shape [${O}], got ${shapeString(b.shape)}`);
  const k = [kh, kw];
  for (let a = 0; a < 2; a++) {
    if (g.outputPadding[a] >= g.stride[a] && g.outputPadding[a] >= g.dilation[a]) {
      throw invalidParams('/params/outputPadding', `outputPadding ${g.outputPadding[a]} along the ${AXES[a]} must be smaller than the stride (${g.stride[a]}) or the dilation (${g.dilation[a]})`);
    }
  }
  const ins = [H, W];
  const outs = [0, 1].map((a) => transposedOutSize(ins[a], k[a], g.stride[a], g.dilation[a], g.pads.begin[a], g.pads.end[a], g.outputPadding[a]));
  if (outs[0] < 1 || outs[1] < 1) throw invalidParams('/params/padding', `the padding leaves an empty output (${outs[0]}×${outs[1]})`);
  return [outs[0], outs[1]];
}

/**
 * Transposed convolution, x [N, C, H, W], weight [C, O/g, kh, kw], bias [O]. Each input value is
 * scattered through the kernel:
 *
 *   for every n, c, i, j, m < O/g, p < kh, q < kw:
 *     y[n, g·O/g + m, i·s_h − P_h⁻ + p·d_h, j·s_w − P_w⁻ + q·d_w] += x[n,c,i,j] · w[c,m,p,q]
 *
 * with g = ⌊c/(C/g)⌋, contributions that land outside the output dropped, and then the bias added.
 * Every output accumulates its contributions exactly and is rounded once. outputPadding only
 * extends the high end of each axis; it must be smaller than the stride or the dilation.
 *
 * This is conv2d's dx (convBackwardSums) with dy := x, through the adjoint conv (adjointConv).
 */
export function convTranspose2dRef(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Arr {
  const [N, , H, W] = x.shape;
  const O = w.shape[1] * g.groups;
  const [Ho, Wo] = transposedShape(x, w, b, g);
  const y = convBackwardSums([N, O, Ho, Wo], undefined, w, flat(x), [H, W], adjointConv(g)).dx;
  if (b) {
    const bd = flat(b);
    for (let t = 0; t < y.size; t++) y.add(t, bd[Math.floor(t / (Ho * Wo)) % O]);
  }
  return fromData(y.values(), [N, O, Ho, Wo]);
}

/**
 * The conv2d of which a transposed conv is the adjoint: the same stride, dilation, groups and
 * begin pads, no flip, its input the transposed conv's output [N, O, Ho, Wo], its output the
 * transposed conv's input [N, C, H, W], and the same weight array: the transposed weight
 * [C, O/g, kh, kw] is a conv weight [O' = C, C'/g = O/g, kh, kw]. Index for index, conv2d's tap
 *
 *   y_conv[n, o, i, j]  reads  x_conv[n, ⌊o/(O'/g)⌋·(C'/g) + c, i·s − P⁻ + p·d, j·s − P⁻ + q·d]  through  w[o, c, p, q]
 *
 * is, with o = c_t (the transposed input channel, O'/g = C/g), c = m (the output channel within
 * its group, C'/g = O/g), (i, j) the transposed input position and the same (p, q), exactly the
 * transposed conv's scatter of x[n, c_t, i, j]·w[c_t, m, p, q] into
 * y[n, ⌊c_t/(C/g)⌋·(O/g) + m, i·s − P⁻ + p·d, …], both dropping positions outside [0, Ho)×[0, Wo).
 * So the transposed conv's y is this conv's dx for dy = x, its dx this conv's y for x = dy, and its
 * dweight this conv's dweight with x and dy swapped (products commute exactly). The end pads make
 * the conv's output size H: ⌊(Ho + P⁻ + P⁺' − d(k−1) − 1)/s⌋ + 1 = H with Ho = (H − 1)·s − P⁻ − P⁺ +
 * d(k−1) + outputPadding + 1 needs P⁺' = P⁺ − outputPadding (possibly negative; conv2d reads only P⁻).
 */
function adjointConv(g: TransposedGeometry): ConvGeometry {
  return {
    stride: g.stride,
    dilation: g.dilation,
    pads: { begin: g.pads.begin, end: g.pads.end.map((e, a) => e - g.outputPadding[a]) },
    groups: g.groups,
    flip: false,
  };
}

/** 1-D transposed convolution: the 2-D one on [N, C, 1, L]. */
export function convTranspose1dRef(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Arr {
  return as1d(convTranspose2dRef(as2d(x), as2d(w), b, lift1d(g)));
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/**
 * convTranspose2d backward. The forward scatters y[n, g·O/g + m, i·s − P⁻ + p·d, …] += x[n,c,i,j]·w[c,m,p,q],
 * so for every such contribution:  dx[n,c,i,j] += dy[…]·w[c,m,p,q],  dw[c,m,p,q] += dy[…]·x[n,c,i,j],
 * and db[o] = Σ dy[n,o,·,·]. Through the adjoint conv (adjointConv): dx is its forward on dy, dw its
 * dweight with x and dy swapped.
 */
export function convTranspose2dBackwardRef(x: Arr, w: Arr, b: Arr | undefined, dy: Arr, geo: TransposedGeometry): { dx: Arr; dweight: Arr; dbias: Arr } {
  const [N, , H, W] = x.shape;
  const O = w.shape[1] * geo.groups;
  const [Ho, Wo] = transposedShape(x, w, b, geo);
  const g = checkDy(dy, [N, O, Ho, Wo]);
  const adj = adjointConv(geo);
  const dx = conv2dRef(dy, w, undefined, adj);
  const dw = convBackwardSums([N, O, Ho, Wo], g, w, flat(x), [H, W], adj).dw!;
  const db = new ScatterSum(O);
  for (let t = 0; t < g.length; t++) db.add(Math.floor(t / (Ho * Wo)) % O, g[t]);
  return { dx, dweight: fromData(dw.values(), w.shape), dbias: fromData(db.values(), [O]) };
}
