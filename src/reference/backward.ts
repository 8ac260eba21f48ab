/**
 * Exact reference: backward passes. Each takes the forward inputs and dy (the gradient of a scalar
 * loss with respect to the forward output) and returns the gradients of the float inputs. Sums of
 * products are accumulated exactly per output element (ScatterSum) and rounded once.
 */
import { ExactSum } from '../exact.js';
import { invalidInputs } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData, shapeString } from '../tensor.js';
import { flat, resolveDim, splitAt } from './common.js';
import { convShape, type ConvGeometry } from './conv.js';
import type { TransposedGeometry } from './transposed.js';
import { transposedShape } from './transposed.js';
import { avgWindow, maxPool2dRef, poolShape, type AvgOptions, type PoolGeometry } from './pooling.js';
import { bilinearTaps, nearestIndex } from './resample.js';
import { roiAlignAxes, roiPoolRef, type RoiAlignOptions } from './detection.js';
import { softmaxRef } from './activation.js';
import type { Reduction } from './loss.js';

/** One exact accumulator per element, allocated on first use. */
export class ScatterSum {
  private acc: (ExactSum | undefined)[];
  constructor(readonly size: number) {
    this.acc = new Array(size);
  }
  addProduct(i: number, a: number, b: number): void {
    (this.acc[i] ??= new ExactSum()).addProduct(a, b);
  }
  add(i: number, a: number): void {
    (this.acc[i] ??= new ExactSum()).add(a);
  }
  values(): Float64Array {
    const out = new Float64Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.acc[i]?.value() ?? 0;
    return out;
  }
}

export function checkDy(dy: Arr, shape: readonly number[]): Float64Array {
  if (dy.shape.length !== shape.length || dy.shape.some((d, i) => d !== shape[i])) {
    throw invalidInputs('/inputs/dy/shape', `dy must have the shape of the forward output ${shapeString(shape)}, got ${shapeString(dy.shape)}`);
  }
  return flat(dy);
}

/**
 * conv2d backward. With the forward y[n,o,i,j] = b[o] + Σ x[n, g·C/g + c, h, w]·w[o,c,p,q] over the
 * taps h = i·s_h − P_h⁻ + p·d_h, w = j·s_w − P_w⁻ + q·d_w (w̃ flipped when `flip`):
 *
 *   dx[n, g·C/g + c, h, w] = Σ dy[n,o,i,j]·w̃[o,c,p,q]   over every (o, i, j, p, q) reading (h, w)
 *   dw̃[o,c,p,q]           = Σ_{n,i,j} dy[n,o,i,j]·x[n, g·C/g + c, h, w]
 *   db[o]                 = Σ_{n,i,j} dy[n,o,i,j]
 */
export function conv2dBackwardRef(x: Arr, w: Arr, b: Arr | undefined, dy: Arr, geo: ConvGeometry): { dx: Arr; dweight: Arr; dbias: Arr } {
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const [Ho, Wo] = convShape(x, w, b, geo);
  const g = checkDy(dy, [N, O, Ho, Wo]);
  const xd = flat(x);
  const wd = flat(w);
  const dx = new ScatterSum(xd.length);
  const dw = new ScatterSum(wd.length);
  const db = new ScatterSum(O);
  const Og = O / geo.groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++) {
      const grp = Math.floor(o / Og);
      for (let i = 0; i < Ho; i++)
        for (let j = 0; j < Wo; j++) {
          const gy = g[((n * O + o) * Ho + i) * Wo + j];
          db.add(o, gy);
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
                dw.addProduct(wi, gy, xd[xi]);
              }
            }
        }
    }
  return { dx: fromData(dx.values(), x.shape), dweight: fromData(dw.values(), w.shape), dbias: fromData(db.values(), [O]) };
}

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

/** linear backward: dx = dy·W, dW = dyᵀ·x, db = Σ_rows dy (x viewed as [rows, in]). */
export function linearBackwardRef(x: Arr, w: Arr, dy: Arr): { dx: Arr; dweight: Arr; dbias: Arr } {
  const inF = x.shape[x.shape.length - 1];
  const [outF] = w.shape;
  const rows = x.shape.length ? flat(x).length / Math.max(inF, 1) : 0;
  const g = checkDy(dy, [...x.shape.slice(0, -1), outF]);
  const xd = flat(x);
  const wd = flat(w);
  const dx = new Float64Array(xd.length);
  const dw = new Float64Array(wd.length);
  const db = new Float64Array(outF);
  const acc = new ExactSum();
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < inF; i++) {
      acc.reset();
      for (let o = 0; o < outF; o++) acc.addProduct(g[r * outF + o], wd[o * inF + i]);
      dx[r * inF + i] = acc.value();
    }
  for (let o = 0; o < outF; o++) {
    for (let i = 0; i < inF; i++) {
      acc.reset();
      for (let r = 0; r < rows; r++) acc.addProduct(g[r * outF + o], xd[r * inF + i]);
      dw[o * inF + i] = acc.value();
    }
    acc.reset();
    for (let r = 0; r < rows; r++) acc.add(g[r * outF + o]);
    db[o] = acc.value();
  }
  return { dx: fromData(dx, x.shape), dweight: fromData(dw, w.shape), dbias: fromData(db, [outF]) };
}

/** maxPool2d backward: each dy goes to its window's argmax (the first maximum): dx[n,c].flat[arg] += dy. */
export function maxPool2dBackwardRef(x: Arr, dy: Arr, geo: PoolGeometry): Arr {
  const { y, indices } = maxPool2dRef(x, geo);
  const g = checkDy(dy, y.shape);
  const [N, C, H, W] = x.shape;
  const plane = y.shape[2] * y.shape[3];
  const dx = new ScatterSum(N * C * H * W);
  const id = flat(indices);
  for (let t = 0; t < g.length; t++) dx.add(Math.floor(t / plane) * H * W + id[t], g[t]);
  return fromData(dx.values(), x.shape);
}

/** avgPool2d backward: every valid cell of a window receives dy / divisor (the forward's divisor). */
export function avgPool2dBackwardRef(x: Arr, dy: Arr, geo: PoolGeometry, opts: AvgOptions): Arr {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, geo);
  const g = checkDy(dy, [N, C, Ho, Wo]);
  const dx = new ScatterSum(N * C * H * W);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++, t++) {
        const win = avgWindow(i, j, H, W, geo, opts);
        if (!win) continue;
        const { h0, h1, w0, w1, divisor } = win;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx.add(nc * H * W + h * W + w, g[t] / divisor);
      }
  return fromData(dx.values(), x.shape);
}

/** adaptiveAvgPool2d backward: each cell of a bin receives dy / (bin size); bins may overlap. */
export function adaptiveAvgPool2dBackwardRef(x: Arr, dy: Arr, outH: number, outW: number): Arr {
  const [N, C, H, W] = x.shape;
  const g = checkDy(dy, [N, C, outH, outW]);
  const dx = new ScatterSum(N * C * H * W);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++, t++) {
        const [h0, h1] = [Math.floor((i * H) / outH), Math.ceil(((i + 1) * H) / outH)];
        const [w0, w1] = [Math.floor((j * W) / outW), Math.ceil(((j + 1) * W) / outW)];
        const size = (h1 - h0) * (w1 - w0);
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx.add(nc * H * W + h * W + w, g[t] / size);
      }
  return fromData(dx.values(), x.shape);
}

/**
 * Backward of y = x̂·γ + β with x̂ = (x − μ)/σ, σ = √(σ² + ε), over each group of n values whose
 * statistics were computed from the group itself (training-mode BN, layer, group, instance norm):
 *
 *   ĝ_i = dy_i·γ_i,   dx_i = (ĝ_i − mean(ĝ) − x̂_i·mean(ĝ·x̂)) / σ
 *   dγ_a = Σ dy·x̂,  dβ_a = Σ dy   over the elements sharing affine index a
 *
 * `member(g, k)` is the flat index of the k-th element of group g; `affine(t)` the affine index of t.
 */
export function normBackward(
  xd: Float64Array,
  g: Float64Array,
  groups: number,
  n: number,
  member: (grp: number, k: number) => number,
  eps: number,
  gamma: Float64Array | undefined,
  affine: (t: number) => number,
  affineSize: number,
): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dx = new Float64Array(xd.length);
  const dgamma = new ScatterSum(affineSize);
  const dbeta = new ScatterSum(affineSize);
  const acc = new ExactSum();
  const xhat = new Float64Array(n);
  const gh = new Float64Array(n);
  for (let grp = 0; grp < groups; grp++) {
    acc.reset();
    for (let k = 0; k < n; k++) acc.add(xd[member(grp, k)]);
    const mean = acc.value() / n;
    acc.reset();
    for (let k = 0; k < n; k++) {
      const d = xd[member(grp, k)] - mean;
      acc.addProduct(d, d);
    }
    const sigma = Math.sqrt(acc.value() / n + eps);
    for (let k = 0; k < n; k++) {
      const t = member(grp, k);
      xhat[k] = (xd[t] - mean) / sigma;
      gh[k] = g[t] * (gamma ? gamma[affine(t)] : 1);
      dgamma.addProduct(affine(t), g[t], xhat[k]);
      dbeta.add(affine(t), g[t]);
    }
    acc.reset();
    for (let k = 0; k < n; k++) acc.add(gh[k]);
    const meanG = acc.value() / n;
    acc.reset();
    for (let k = 0; k < n; k++) acc.addProduct(gh[k], xhat[k]);
    const meanGX = acc.value() / n;
    for (let k = 0; k < n; k++) dx[member(grp, k)] = (gh[k] - meanG - xhat[k] * meanGX) / sigma;
  }
  return { dx, dgamma: dgamma.values(), dbeta: dbeta.values() };
}

/** relu backward: dx = dy where x > 0, else 0 (PyTorch: the gradient at 0 is 0). */
export function reluBackwardRef(x: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(x).map((v, i) => (v > 0 ? g[i] : 0)), x.shape);
}

/** leakyRelu backward: dx = dy where x > 0, else negativeSlope·dy (PyTorch: slope at 0). */
export function leakyReluBackwardRef(x: Arr, dy: Arr, slope: number): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(x).map((v, i) => (v > 0 ? g[i] : g[i] * slope)), x.shape);
}

/** sigmoid backward: dx = dy·s·(1 − s), s = sigmoid(x). tanh backward: dx = dy·(1 − t²). */
export function sigmoidBackwardRef(x: Arr, y: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(y).map((s, i) => g[i] * s * (1 - s)), x.shape);
}

export function tanhBackwardRef(x: Arr, y: Arr, dy: Arr): Arr {
  const g = checkDy(dy, x.shape);
  return fromData(flat(y).map((t, i) => g[i] * (1 - t * t)), x.shape);
}

/** softmax backward along dim: dx_i = y_i·(dy_i − Σ_j dy_j·y_j). */
export function softmaxBackwardRef(x: Arr, dy: Arr, dim: number): Arr {
  const g = checkDy(dy, x.shape);
  const d = resolveDim(dim, x.shape.length, '/params/dim');
  const y = flat(softmaxRef(x, d, false));
  const [outer, size, inner] = splitAt(x.shape, d);
  const dx = new Float64Array(y.length);
  const acc = new ExactSum();
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * size * inner + i;
      acc.reset();
      for (let k = 0; k < size; k++) acc.addProduct(g[base + k * inner], y[base + k * inner]);
      const dot = acc.value();
      for (let k = 0; k < size; k++) dx[base + k * inner] = y[base + k * inner] * (g[base + k * inner] - dot);
    }
  return fromData(dx, x.shape);
}

/**
 * crossEntropy backward w.r.t. the logits. With p = softmax(logits) and the smoothed target
 * t' = (1 − ε)·onehot(t) + ε/C (or (1 − ε)·t + ε/C for probabilities):
 *
 *   dlogits[n] = s_n·(p[n]·Σ_c t'[n,c] − t'[n])
 *
 * where s_n = dy (sum), dy / (non-ignored count or N) (mean), dy[n] (none); ignored rows get 0.
 */
export function crossEntropyBackwardRef(logits: Arr, target: Arr, dy: Arr, reduction: Reduction, eps: number, ignoreIndex: number): Arr {
  const [N, C] = logits.shape;
  const p = flat(softmaxRef(logits, 1, false));
  const td = flat(target);
  const g = checkDy(dy, reduction === 'none' ? [N] : []);
  const byIndex = target.shape.length === 1;
  const counted = byIndex ? Array.from(td).filter((t) => t !== ignoreIndex).length : N;
  const out = new Float64Array(N * C);
  for (let n = 0; n < N; n++) {
    if (byIndex && td[n] === ignoreIndex) continue;
    if (byIndex && (!Number.isInteger(td[n]) || td[n] < 0 || td[n] >= C)) throw invalidInputs(`/inputs/target/data/${n}`, `target[${n}] = ${td[n]} is not a class index in 0..${C - 1}`);
    const s = reduction === 'none' ? g[n] : reduction === 'sum' ? g[0] : g[0] / counted;
    const tp = new Float64Array(C);
    for (let c = 0; c < C; c++) tp[c] = (byIndex ? (c === td[n] ? 1 - eps : 0) : (1 - eps) * td[n * C + c]) + eps / C;
    const acc = new ExactSum();
    for (const v of tp) acc.add(v);
    const total = acc.value();
    for (let c = 0; c < C; c++) out[n * C + c] = s * (p[n * C + c] * total - tp[c]);
  }
  return fromData(out, logits.shape);
}

/** roiPool backward: each dy goes to its bin's argmax; empty bins send nothing. */
export function roiPoolBackwardRef(x: Arr, rois: Arr, dy: Arr, ph: number, pw: number, scale: number): Arr {
  const { y, argmax } = roiPoolRef(x, rois, ph, pw, scale);
  const g = checkDy(dy, y.shape);
  const [, C, H, W] = x.shape;
  const r = flat(rois);
  const a = flat(argmax);
  const dx = new ScatterSum(flat(x).length);
  const per = C * ph * pw;
  for (let t = 0; t < g.length; t++) {
    if (a[t] < 0) continue;
    const k = Math.floor(t / per);
    const c = Math.floor(t / (ph * pw)) % C;
    dx.add((Math.trunc(r[5 * k]) * C + c) * H * W + a[t], g[t]);
  }
  return fromData(dx.values(), x.shape);
}

/** roiAlign backward: each sample's four bilinear weights carry dy / count back to their pixels. */
export function roiAlignBackwardRef(x: Arr, rois: Arr, dy: Arr, o: RoiAlignOptions): Arr {
  const [, C, H, W] = x.shape;
  const K = rois.shape[0];
  const g = checkDy(dy, [K, C, o.ph, o.pw]);
  const r = flat(rois);
  const dx = new ScatterSum(flat(x).length);
  for (let k = 0; k < K; k++) {
    const grid = roiAlignAxes(r, k, o, H, W);
    const b = Math.trunc(r[5 * k]);
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * H * W;
      for (let i = 0; i < o.ph; i++)
        for (let j = 0; j < o.pw; j++) {
          const gy = g[((k * C + c) * o.ph + i) * o.pw + j] / grid.count;
          for (const ay of grid.ys[i]) {
            if (!ay) continue;
            for (const ax of grid.xs[j]) {
              if (!ax) continue;
              dx.addProduct(base + ay.lo * W + ax.lo, ay.h * ax.h, gy);
              dx.addProduct(base + ay.lo * W + ax.hi, ay.h * ax.l, gy);
              dx.addProduct(base + ay.hi * W + ax.lo, ay.l * ax.h, gy);
              dx.addProduct(base + ay.hi * W + ax.hi, ay.l * ax.l, gy);
            }
          }
        }
    }
  }
  return fromData(dx.values(), x.shape);
}

/** upsample2d backward: nearest sends dy to its source pixel; bilinear splits it over the four corners. */
export function upsample2dBackwardRef(x: Arr, dy: Arr, outH: number, outW: number, mode: 'nearest' | 'bilinear', alignCorners: boolean, scale: [number, number] | undefined): Arr {
  const [N, C, H, W] = x.shape;
  const g = checkDy(dy, [N, C, outH, outW]);
  const dx = new ScatterSum(N * C * H * W);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < outH; i++)
      for (let j = 0; j < outW; j++, t++) {
        if (mode === 'nearest') {
          dx.add(base + nearestIndex(i, H, outH, scale?.[0]) * W + nearestIndex(j, W, outW, scale?.[1]), g[t]);
          continue;
        }
        const taps = bilinearTaps(i, j, H, W, outH, outW, alignCorners, scale);
        for (let q = 0; q < 4; q++) dx.addProduct(base + taps.idx[q], taps.w[q], g[t]);
      }
  }
  return fromData(dx.values(), x.shape);
}

/** maxUnpool2d backward: dx[n,c,i,j] = dy[n,c].flat[indices[n,c,i,j]] (a gather). */
export function maxUnpool2dBackwardRef(x: Arr, indices: Arr, dy: Arr, outH: number, outW: number): Arr {
  const [N, C, H, W] = x.shape;
  const g = checkDy(dy, [N, C, outH, outW]);
  const id = flat(indices);
  const plane = outH * outW;
  const dx = new Float64Array(N * C * H * W);
  for (let t = 0; t < dx.length; t++) dx[t] = g[Math.floor(t / (H * W)) * plane + id[t]];
  return fromData(dx, x.shape);
}
