/**
 * Exact reference: convolution family (conv1d/conv2d as cross-correlation or true convolution,
 * the textbook `convolve`, and `linear`).
 *
 * All sums of products are accumulated exactly (ExactSum) and rounded once, so for inputs whose
 * products are exact in float64 (every float32 input) each output is the correctly rounded value
 * of the exact result.
 */
import { CertifiedSum, ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, numel, shapeString } from '../tensor.js';
import { as1d, as2d, convOutSize, lift1d, type Pads } from '../geometry.js';

export interface ConvGeometry {
  stride: number[];
  dilation: number[];
  pads: Pads;
  groups: number;
  /** Rotate the kernel by 180° first (true convolution). */
  flip: boolean;
}

import { checkDy, flat, ScatterSum } from './common.js';

export { as2d } from '../geometry.js';

/**
 * Validates x [N, C, H, W], weight [O, C/g, kh, kw] and bias [O] of a 2-D conv against each other
 * and the geometry, and returns the output size [H_out, W_out]. Shared by the reference, its
 * backward pass and the accelerated kernel, so all three reject the same impossible params.
 */
export function convShape(x: Arr, w: Arr, b: Arr | undefined, geo: ConvGeometry): [number, number] {
  const [, C, H, W] = x.shape;
  const [O, , kh, kw] = w.shape;
  const { stride, dilation, pads, groups } = geo;
  if (C % groups !== 0) throw invalidParams('/params/groups', `groups = ${groups} must divide the ${C} input channels of x`);
  if (O % groups !== 0) throw invalidParams('/params/groups', `groups = ${groups} must divide the ${O} output channels (weight.shape[0])`);
  if (w.shape[1] * groups !== C) {
    throw invalidInputs(
      '/inputs/weight/shape/1',
      `weight has ${w.shape[1]} input channels per group but x has C = ${C} channels and groups = ${groups} (need C/groups = ${C / groups})`,
    );
  }
  if (b && (b.shape.length !== 1 || b.shape[0] !== O)) {
    throw invalidInputs('/inputs/bias/shape', `bias must have shape [${O}] (one per output channel), got ${shapeString(b.shape)}`);
  }
  const Ho = convOutSize(H, kh, stride[0], dilation[0], pads.begin[0], pads.end[0]);
  const Wo = convOutSize(W, kw, stride[1], dilation[1], pads.begin[1], pads.end[1]);
  if (Ho < 1 || Wo < 1) {
    throw invalidInputs(
      '/inputs/weight/shape',
      `the dilated kernel (${dilation[0] * (kh - 1) + 1}×${dilation[1] * (kw - 1) + 1}) is larger than the padded input ` +
        `(${H + pads.begin[0] + pads.end[0]}×${W + pads.begin[1] + pads.end[1]})`,
    );
  }
  return [Ho, Wo];
}

/**
 * 2-D convolution, NCHW, weight [O, C/g, kh, kw], bias [O]:
 *
 *   y[n,o,i,j] = b[o] + Σ_{c<C/g} Σ_{p<kh} Σ_{q<kw} x[n, g·C/g + c, i·s_h − P_h⁻ + p·d_h, j·s_w − P_w⁻ + q·d_w] · w̃[o,c,p,q]
 *
 * with g = ⌊o/(O/g)⌋, reads outside the input counting as 0, w̃ = w (cross-correlation, what CNN
 * libraries call convolution) or w̃[o,c,p,q] = w[o,c,kh−1−p,kw−1−q] when `flip` (true convolution),
 * and H_out = ⌊(H + P_h⁻ + P_h⁺ − d_h(kh−1) − 1)/s_h⌋ + 1.
 */
export function conv2dRef(x: Arr, w: Arr, b: Arr | undefined, geo: ConvGeometry): Arr {
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const { stride, dilation, pads, groups, flip } = geo;
  const [Ho, Wo] = convShape(x, w, b, geo);
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const out = new Float64Array(N * O * Ho * Wo);
  const Og = O / groups;
  const acc = new ExactSum();
  const fast = conv2dCertified(x, w, b, geo, Ho, Wo);
  if (fast) return fast;
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      for (let i = 0; i < Ho; i++) {
        for (let j = 0; j < Wo; j++) {
          acc.reset();
          if (bd) acc.add(bd[o]);
          for (let c = 0; c < Cg; c++) {
            const xBase = (n * C + g * Cg + c) * H;
            const wBase = (o * Cg + c) * kh;
            for (let p = 0; p < kh; p++) {
              const h = i * stride[0] - pads.begin[0] + p * dilation[0];
              if (h < 0 || h >= H) continue;
              const pp = flip ? kh - 1 - p : p;
              for (let q = 0; q < kw; q++) {
                const v = j * stride[1] - pads.begin[1] + q * dilation[1];
                if (v < 0 || v >= W) continue;
                const qq = flip ? kw - 1 - q : q;
                acc.addProduct(xd[(xBase + h) * W + v], wd[(wBase + pp) * kw + qq]);
              }
            }
          }
          out[t++] = acc.value();
        }
      }
    }
  }
  return fromData(out, [N, O, Ho, Wo]);
}

/**
 * conv2dRef for float32-valued inputs (every product exact): the same sums through CertifiedSum,
 * each output the correctly rounded exact sum; an output the fast path cannot certify is
 * recomputed with ExactSum. Undefined when an input is not float32-valued (or not finite).
 */
function conv2dCertified(x: Arr, w: Arr, b: Arr | undefined, geo: ConvGeometry, Ho: number, Wo: number): Arr | undefined {
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const xd = flat(x);
  const wd = flat(w);
  const bd = b ? flat(b) : undefined;
  const st = CertifiedSum.float32Stats(xd, wd, bd);
  if (!st) return undefined;
  const [[mx, lx], [mw, lw], [mb, lb]] = st;
  const cs = new CertifiedSum(Math.max(mx * mw, mb), Cg * kh * kw + 1, Math.min(lx + lw, lb));
  const sigma = cs.sigma;
  if (Number.isNaN(sigma)) return undefined;
  const [sh, sw] = geo.stride;
  const [dh, dw] = geo.dilation;
  const [ph, pw] = geo.pads.begin;
  const flip = geo.flip;
  const Og = O / geo.groups;
  const out = new Float64Array(N * O * Ho * Wo);
  const acc = new ExactSum();
  // weights with the taps reversed when flipping, so the loops below index both the same way
  let wf = wd;
  if (flip) {
    wf = new Float64Array(wd.length);
    for (let e = 0; e < wd.length; e += kh * kw) for (let p = 0; p < kh; p++) for (let q = 0; q < kw; q++) wf[e + p * kw + q] = wd[e + (kh - 1 - p) * kw + kw - 1 - q];
  }
  // the taps inside the input for each output row / column: a range [lo, hi)
  const range = (start: number, k: number, d: number, size: number): [number, number] => {
    let lo = 0;
    while (lo < k && start + lo * d < 0) lo++;
    let hi = k;
    while (hi > lo && start + (hi - 1) * d >= size) hi--;
    return [lo, hi];
  };
  const rows = Array.from({ length: Ho }, (_, i) => range(i * sh - ph, kh, dh, H));
  const cols = Array.from({ length: Wo }, (_, j) => range(j * sw - pw, kw, dw, W));
  let t = 0;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      const g = Math.floor(o / Og);
      const bias = bd ? bd[o] : 0;
      const bq = bias + sigma - sigma;
      const br = bias - bq;
      for (let i = 0; i < Ho; i++) {
        const [p0, p1] = rows[i];
        for (let j = 0; j < Wo; j++) {
          const [q0, q1] = cols[j];
          let s1 = bq;
          let s2 = br;
          let u1 = 0;
          let u2 = 0;
          for (let c = 0; c < Cg; c++) {
            const xBase = (n * C + g * Cg + c) * H;
            const wBase = (o * Cg + c) * kh;
            for (let p = p0; p < p1; p++) {
              const xRow = (xBase + i * sh - ph + p * dh) * W + j * sw - pw;
              const wRow = (wBase + p) * kw;
              let q = q0;
              for (; q + 1 < q1; q += 2) {
                // two independent chains per level (more instruction-level parallelism)
                const pa = xd[xRow + q * dw] * wf[wRow + q];
                const pb = xd[xRow + (q + 1) * dw] * wf[wRow + q + 1];
                const ha = pa + sigma - sigma;
                const hb = pb + sigma - sigma;
                s1 += ha;
                u1 += hb;
                s2 += pa - ha;
                u2 += pb - hb;
              }
              if (q < q1) {
                const pr = xd[xRow + q * dw] * wf[wRow + q];
                const hi = pr + sigma - sigma;
                s1 += hi;
                s2 += pr - hi;
              }
            }
          }
          let y = cs.round(s1 + u1, s2 + u2); // s1 + u1 is exact (both multiples of σ·2⁻⁵³, their sum below σ)
          if (Number.isNaN(y)) {
            acc.reset();
            if (bd) acc.add(bias);
            for (let c = 0; c < Cg; c++) {
              const xBase = (n * C + g * Cg + c) * H;
              const wBase = (o * Cg + c) * kh;
              for (let p = p0; p < p1; p++) {
                const xRow = (xBase + i * sh - ph + p * dh) * W + j * sw - pw;
                const wRow = (wBase + p) * kw;
                for (let q = q0; q < q1; q++) acc.addProduct(xd[xRow + q * dw], wf[wRow + q]);
              }
            }
            y = acc.value();
          }
          out[t++] = y;
        }
      }
    }
  }
  return fromData(out, [N, O, Ho, Wo]);
}

/** 1-D convolution, NCL: conv2d on [N,C,1,L] with a [O,C/g,1,k] kernel. */
export function conv1dRef(x: Arr, w: Arr, b: Arr | undefined, geo: ConvGeometry): Arr {
  return as1d(conv2dRef(as2d(x), as2d(w), b, lift1d(geo)));
}

export type ConvolveMode = 'full' | 'same' | 'valid';

/**
 * The textbook (signal-processing) convolution of a (n×m) with b (k×l), 1-D or 2-D:
 *
 *   full:  c[x,y] = Σ_u Σ_v a[u,v] · b[x−u, y−v],  size (n+k−1)×(m+l−1)
 *   same:  the centre crop of `full` to a's size, starting at (⌊(k−1)/2⌋, ⌊(l−1)/2⌋)
 *   valid: the part of `full` where b lies wholly inside a, size (n−k+1)×(m−l+1); needs a ≥ b
 *
 * (1-based in the notes: c_xy = Σ_u Σ_v a_uv b_(x−u+1, y−v+1).) With flip false, b is not rotated:
 * correlation, c[x,y] = Σ a[u,v] · b[u−x+k−1, v−y+l−1].
 */
export function convolveRef(a: Arr, b: Arr, mode: ConvolveMode, flip: boolean): Arr {
  if (a.shape.length !== b.shape.length) {
    throw invalidInputs('/inputs/b/shape', `a and b must have the same rank, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  const one = a.shape.length === 1;
  const [n, m] = one ? [1, a.shape[0]] : [a.shape[0], a.shape[1]];
  const [k, l] = one ? [1, b.shape[0]] : [b.shape[0], b.shape[1]];
  if (n * m === 0 || k * l === 0) throw invalidInputs(numel(a.shape) === 0 ? '/inputs/a/shape' : '/inputs/b/shape', 'convolve needs non-empty a and b');
  let rows: number, cols: number, r0: number, c0: number;
  if (mode === 'full') [rows, cols, r0, c0] = [n + k - 1, m + l - 1, 0, 0];
  else if (mode === 'same') [rows, cols, r0, c0] = [n, m, Math.floor((k - 1) / 2), Math.floor((l - 1) / 2)];
  else {
    if (k > n || l > m) {
      throw invalidParams('/params/mode', `mode "valid" needs a at least as large as b in every dimension, got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
    }
    [rows, cols, r0, c0] = [n - k + 1, m - l + 1, k - 1, l - 1];
  }
  const ad = flat(a);
  const bd = flat(b);
  const out = new Float64Array(rows * cols);
  const acc = new ExactSum();
  for (let x = 0; x < rows; x++) {
    for (let y = 0; y < cols; y++) {
      const fx = x + r0; // index into the full output
      const fy = y + c0;
      acc.reset();
      for (let u = Math.max(0, fx - k + 1); u <= Math.min(n - 1, fx); u++) {
        for (let v = Math.max(0, fy - l + 1); v <= Math.min(m - 1, fy); v++) {
          const bi = flip ? fx - u : k - 1 - (fx - u);
          const bj = flip ? fy - v : l - 1 - (fy - v);
          acc.addProduct(ad[u * m + v], bd[bi * l + bj]);
        }
      }
      out[x * cols + y] = acc.value();
    }
  }
  return fromData(out, one ? [cols] : [rows, cols]);
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

/**
 * conv2d backward. With the forward y[n,o,i,j] = b[o] + Σ x[n, g·C/g + c, h, w]·w[o,c,p,q] over the
 * taps h = i·s_h − P_h⁻ + p·d_h, w = j·s_w − P_w⁻ + q·d_w (w̃ flipped when `flip`):
 *
 *   dx[n, g·C/g + c, h, w] = Σ dy[n,o,i,j]·w̃[o,c,p,q]   over every (o, i, j, p, q) reading (h, w)
 *   dw̃[o,c,p,q]           = Σ_{n,i,j} dy[n,o,i,j]·x[n, g·C/g + c, h, w]
 *   db[o]                 = Σ_{n,i,j} dy[n,o,i,j]
 */
export function conv2dBackwardRef(x: Arr, w: Arr, b: Arr | undefined, dy: Arr, geo: ConvGeometry): { dx: Arr; dweight: Arr; dbias: Arr } {
  const O = w.shape[0];
  const [Ho, Wo] = convShape(x, w, b, geo);
  const g = checkDy(dy, [x.shape[0], O, Ho, Wo]);
  const { dx, dw } = convBackwardSums(x.shape, flat(x), w, g, [Ho, Wo], geo);
  const db = new ScatterSum(O);
  for (let t = 0; t < g.length; t++) db.add(Math.floor(t / (Ho * Wo)) % O, g[t]);
  return { dx: fromData(dx.values(), x.shape), dweight: fromData(dw!.values(), w.shape), dbias: fromData(db.values(), [O]) };
}

/**
 * The exact sums of conv2d's dx and dweight (no bias, not rounded yet: the caller may add to
 * them), for x of shape `xShape` [N, C, H, W], weight [O, C/g, kh, kw] and dy [N, O, Ho, Wo] (flat,
 * `out` = [Ho, Wo]): for every tap, output (n, o, i, j) reading x at (h, w) through w̃[o,c,p,q],
 *   dx[n, g·C/g + c, h, w] += dy[n,o,i,j]·w̃[o,c,p,q],   dw̃[o,c,p,q] += dy[n,o,i,j]·x[n, g·C/g + c, h, w].
 * `x` may be left out when only dx is wanted (dw is then undefined). Only the begin pads are read,
 * so the end pads of `geo` do not matter. convTranspose2d's forward and dweight are these sums too
 * (reference/transposed.ts).
 */
export function convBackwardSums(xShape: readonly number[], x: Float64Array | undefined, w: Arr, dy: Float64Array, out: readonly [number, number], geo: ConvGeometry): { dx: ScatterSum; dw?: ScatterSum } {
  const [N, C, H, W] = xShape;
  const [O, Cg, kh, kw] = w.shape;
  const [oh, ow] = out;
  const wd = flat(w);
  const dx = new ScatterSum(N * C * H * W);
  const dw = x ? new ScatterSum(wd.length) : undefined;
  const Og = O / geo.groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og);
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const gy = dy[((n * O + o) * oh + i) * ow + j];
          for (let c = 0; c < Cg; c++)
            for (let p = 0; p < kh; p++) {
              const h = i * geo.stride[0] - geo.pads.begin[0] + p * geo.dilation[0];
              if (h < 0 || h >= H) continue;
              for (let q = 0; q < kw; q++) {
                const v = j * geo.stride[1] - geo.pads.begin[1] + q * geo.dilation[1];
                if (v < 0 || v >= W) continue;
                const wi = ((o * Cg + c) * kh + (geo.flip ? kh - 1 - p : p)) * kw + (geo.flip ? kw - 1 - q : q);
                const xi = ((n * C + grp * Cg + c) * H + h) * W + v;
                dx.addProduct(xi, gy, wd[wi]);
                dw?.addProduct(wi, gy, x![xi]);
              }
            }
        }
    }
  return { dx, dw };
}
