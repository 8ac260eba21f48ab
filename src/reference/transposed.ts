/** Exact reference: transposed convolution (1-D and 2-D), written as the scatter of the definition. */
import { ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { as1d, as2d, lift1d, transposedOutSize, type Pads } from '../geometry.js';
import { checkDy, flat, ScatterSum } from './common.js';

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
 */
export function convTranspose2dRef(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Arr {
  const [N, C, H, W] = x.shape;
  const [, Og, kh, kw] = w.shape;
  const G = g.groups;
  const O = Og * G;
  const [Ho, Wo] = transposedShape(x, w, b, g);
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const acc: (ExactSum | undefined)[] = new Array(N * O * Ho * Wo);
  const Cg = C / G;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const v = xd[((n * C + c) * H + i) * W + j];
          for (let m = 0; m < Og; m++)
            for (let p = 0; p < kh; p++) {
              const oh = i * g.stride[0] - g.pads.begin[0] + p * g.dilation[0];
              if (oh < 0 || oh >= Ho) continue;
              for (let q = 0; q < kw; q++) {
                const ow = j * g.stride[1] - g.pads.begin[1] + q * g.dilation[1];
                if (ow < 0 || ow >= Wo) continue;
                const at = ((n * O + grp * Og + m) * Ho + oh) * Wo + ow;
                (acc[at] ??= new ExactSum()).addProduct(v, wd[((c * Og + m) * kh + p) * kw + q]);
              }
            }
        }
    }
  const y = new Float64Array(acc.length);
  for (let t = 0; t < acc.length; t++) {
    const o = Math.floor(t / (Ho * Wo)) % O;
    const a = acc[t];
    if (bd) (acc[t] = a ?? new ExactSum()).add(bd[o]);
    y[t] = acc[t]?.value() ?? 0;
  }
  return fromData(y, [N, O, Ho, Wo]);
}

/** 1-D transposed convolution: the 2-D one on [N, C, 1, L]. */
export function convTranspose1dRef(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Arr {
  return as1d(convTranspose2dRef(as2d(x), as2d(w), b, lift1d(g)));
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/**
 * convTranspose2d backward. The forward scatters y[n, g·O/g + m, i·s − P⁻ + p·d, …] += x[n,c,i,j]·w[c,m,p,q],
 * so for every such contribution:  dx[n,c,i,j] += dy[…]·w[c,m,p,q],  dw[c,m,p,q] += dy[…]·x[n,c,i,j],
 * and db[o] = Σ dy[n,o,·,·].
 */
export function convTranspose2dBackwardRef(x: Arr, w: Arr, b: Arr | undefined, dy: Arr, geo: TransposedGeometry): { dx: Arr; dweight: Arr; dbias: Arr } {
  const [N, C, H, W] = x.shape;
  const [, Og, kh, kw] = w.shape;
  const G = geo.groups;
  const O = Og * G;
  const [Ho, Wo] = transposedShape(x, w, b, geo);
  const g = checkDy(dy, [N, O, Ho, Wo]);
  const xd = flat(x);
  const wd = flat(w);
  const dx = new ScatterSum(xd.length);
  const dw = new ScatterSum(wd.length);
  const db = new ScatterSum(O);
  for (let t = 0; t < g.length; t++) db.add(Math.floor(t / (Ho * Wo)) % O, g[t]);
  const Cg = C / G;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const grp = Math.floor(c / Cg);
      for (let i = 0; i < H; i++)
        for (let j = 0; j < W; j++) {
          const xi = ((n * C + c) * H + i) * W + j;
          for (let m = 0; m < Og; m++)
            for (let p = 0; p < kh; p++) {
              const oh = i * geo.stride[0] - geo.pads.begin[0] + p * geo.dilation[0];
              if (oh < 0 || oh >= Ho) continue;
              for (let q = 0; q < kw; q++) {
                const ow = j * geo.stride[1] - geo.pads.begin[1] + q * geo.dilation[1];
                if (ow < 0 || ow >= Wo) continue;
                const gy = g[((n * O + grp * Og + m) * Ho + oh) * Wo + ow];
                const wi = ((c * Og + m) * kh + p) * kw + q;
                dx.addProduct(xi, gy, wd[wi]);
                dw.addProduct(wi, gy, xd[xi]);
              }
            }
        }
    }
  return { dx: fromData(dx.values(), x.shape), dweight: fromData(dw.values(), w.shape), dbias: fromData(db.values(), [O]) };
}
