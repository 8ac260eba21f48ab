/**
 * gpu.js implementations of the `accelerated` backend. Each takes the registry's inputs
 * (float64 ndarrays) and resolved params, validates shapes with the same helpers as the
 * reference, runs one or two float32 kernels, and returns float64 ndarrays.
 *
 * Layout: NCHW tensors go to kernels as `input(data, [W, H, N·C])`, read as `x[n·C + c][h][w]`;
 * 3-D outputs are [W_out, H_out, N·O]. Loop bounds are kernel constants (never data-dependent),
 * and loopMaxIterations is raised, so no loop is silently capped at gpu.js's default 1000.
 */
import gpujs from 'gpu.js';
import type { IKernelRunShortcut, KernelFunction } from 'gpu.js';
import { fromData, type Arr } from '../src/tensor.js';
import { flat } from '../src/reference/common.js';
import { convShape, type ConvGeometry } from '../src/reference/conv.js';
import { poolShape, type AvgOptions, type PoolGeometry } from '../src/reference/pooling.js';
import { transposedShape, type TransposedGeometry } from '../src/reference/transposed.js';
import { invalidInputs } from '../src/errors.js';
import { checkRois, type RoiAlignOptions } from '../src/reference/detection.js';
import { kernel, noteRan } from './backend.js';

// the typings declare `input` as a type only; at run time it is a function on the module
const input = (gpujs as unknown as { input: (v: Float32Array, size: number[]) => unknown }).input;
type This = { thread: { x: number; y: number; z: number }; constants: Record<string, number> };

const f32 = (a: Arr) => Float32Array.from(flat(a));

/** Flattens a gpu.js result (Float32Array, or nested arrays of them) into a Float64Array. */
function unnest(r: unknown, n: number): Float64Array {
  const out = new Float64Array(n);
  let t = 0;
  const walk = (v: unknown) => {
    if (v instanceof Float32Array) {
      out.set(v, t);
      t += v.length;
    } else for (const e of v as unknown[]) walk(e);
  };
  walk(r);
  return out;
}

function run(k: IKernelRunShortcut, n: number, ...args: unknown[]): Float64Array {
  const r = (k as unknown as (...a: unknown[]) => unknown)(...args);
  noteRan(k);
  return unnest(r, n);
}

/**
 * conv2d: y[n,o,i,j] = b[o] + Σ_c Σ_p Σ_q x[n, g·Cg + c, i·s − P + p·d, j·s − P + q·d]·w̃[o,c,p,q], in float32.
 *
 * Fast path: the input is zero-padded on the host and the kernel flipped there (true convolution),
 * so the kernel body has no bounds tests, and each thread computes 4 output channels of one pixel
 * (an Array(4) result): every input value it loads feeds 4 multiply-adds. gpu.js's WebAssembly
 * backend runs 4 neighbouring threads as one SIMD quad, where a lane-varying load costs 4 scalar
 * loads and the weights (the same for the quad) are broadcast. Output channels are padded to a
 * multiple of 4 with zero weights; with groups the 4 channels must share a group (O/groups a
 * multiple of 4). Otherwise, and when padding meets non-finite weights (the reference skips padding
 * taps, where 0·∞ would be NaN), one channel per thread with bounds tests.
 */
export function conv2d(x: Arr, w: Arr, b: Arr | undefined, g: ConvGeometry): Arr {
  const [Ho, Wo] = convShape(x, w, b, g);
  const [N, C, H, W] = x.shape;
  const [O, Cg, kh, kw] = w.shape;
  const Og = O / g.groups;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  const [pt, pl] = g.pads.begin;
  const geo = { N, C, H, W, Cg, Og, kh, kw, sh, sw, dh, dw, pt, pl, flip: g.flip ? 1 : 0 };
  const bias = b ? f32(b) : new Float32Array(O);
  const wd = flat(w);
  const padded = g.pads.begin.some((p) => p > 0) || g.pads.end.some((p) => p > 0);
  if ((g.groups === 1 || Og % 4 === 0) && (!padded || wd.every(Number.isFinite))) {
    const O4 = Math.ceil(O / 4) * 4;
    const OB = O4 / 4;
    const K = Cg * kh * kw;
    // weights [O4][K] with k = (c, p, q), taps reversed for true convolution; zero rows past O
    const khw = kh * kw;
    const wp = new Float32Array(O4 * K);
    for (let e = 0; e < O * K; e++) wp[e] = g.flip ? wd[e - (e % khw) + khw - 1 - (e % khw)] : wd[e];
    const bp = new Float32Array(O4);
    bp.set(bias);
    // the zero-padded image: every tap of every output pixel lies inside it
    const Hp = Math.max(pt + H, (Ho - 1) * sh + (kh - 1) * dh + 1);
    const Wp = Math.max(pl + W, (Wo - 1) * sw + (kw - 1) * dw + 1);
    const xd = flat(x);
    const xp = new Float32Array(N * C * Hp * Wp);
    for (let nc = 0; nc < N * C; nc++) {
      for (let h = 0; h < H; h++) xp.set(xd.subarray((nc * H + h) * W, (nc * H + h + 1) * W), (nc * Hp + pt + h) * Wp + pl);
    }
    const k = kernel('conv2d4', function (this: This, xs: number[][][], ws: number[][]) {
      const j = this.thread.x;
      const i = this.thread.y;
      const z = this.thread.z;
      const n = Math.floor((z + 0.5) / this.constants.OB);
      const o = (z - n * this.constants.OB) * 4;
      const c0 = n * this.constants.C + Math.floor((o + 0.5) / this.constants.Og) * this.constants.Cg;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let cc = 0; cc < this.constants.Cg; cc++) {
        for (let p = 0; p < this.constants.kh; p++) {
          for (let q = 0; q < this.constants.kw; q++) {
            const xv = xs[c0 + cc][i * this.constants.sh + p * this.constants.dh][j * this.constants.sw + q * this.constants.dw];
            const t = (cc * this.constants.kh + p) * this.constants.kw + q;
            s0 += xv * ws[o][t];
            s1 += xv * ws[o + 1][t];
            s2 += xv * ws[o + 2][t];
            s3 += xv * ws[o + 3][t];
          }
        }
      }
      return [s0, s1, s2, s3];
    } as KernelFunction, { output: [Wo, Ho, N * OB], constants: { ...geo, OB }, returnType: 'Array(4)' } as never);
    // result order: [n·OB + ob][i][j][r] for channel o = 4·ob + r; the bias added in float32
    const r = run(k, N * OB * Ho * Wo * 4, input(xp, [Wp, Hp, N * C]), input(wp, [K, O4]));
    const y = new Float64Array(N * O * Ho * Wo);
    const HW = Ho * Wo;
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const src = (n * OB + (o >> 2)) * HW * 4 + (o & 3);
        const dst = (n * O + o) * HW;
        for (let e = 0; e < HW; e++) y[dst + e] = Math.fround(r[src + 4 * e] + bp[o]);
      }
    }
    return fromData(y, [N, O, Ho, Wo]);
  }
  const c = { ...geo, O };
  const k = kernel('conv2d', function (this: This, xs: number[][][], ws: number[][][], bs: number[]) {
    const j = this.thread.x;
    const i = this.thread.y;
    const z = this.thread.z;
    const n = Math.floor((z + 0.5) / this.constants.O);
    const o = z - n * this.constants.O;
    const grp = Math.floor((o + 0.5) / this.constants.Og);
    let s = bs[o];
    for (let cc = 0; cc < this.constants.Cg; cc++) {
      for (let p = 0; p < this.constants.kh; p++) {
        const h = i * this.constants.sh - this.constants.pt + p * this.constants.dh;
        if (h >= 0 && h < this.constants.H) {
          for (let q = 0; q < this.constants.kw; q++) {
            const v = j * this.constants.sw - this.constants.pl + q * this.constants.dw;
            if (v >= 0 && v < this.constants.W) {
              let pp = p;
              let qq = q;
              if (this.constants.flip === 1) {
                pp = this.constants.kh - 1 - p;
                qq = this.constants.kw - 1 - q;
              }
              s += xs[n * this.constants.C + grp * this.constants.Cg + cc][h][v] * ws[o * this.constants.Cg + cc][pp][qq];
            }
          }
        }
      }
    }
    return s;
  } as KernelFunction, { output: [Wo, Ho, N * O], constants: c });
  return fromData(run(k, N * O * Ho * Wo, input(f32(x), [W, H, N * C]), input(f32(w), [kw, kh, O * Cg]), bias), [N, O, Ho, Wo]);
}

/** convTranspose2d in gather form: y[n, o, oh, ow] = b[o] + Σ x[n, c, ih, iw]·w[c, m, p, q] over oh = ih·s − P + p·d. */
export function convTranspose2d(x: Arr, w: Arr, b: Arr | undefined, g: TransposedGeometry): Arr {
  const [Ho, Wo] = transposedShape(x, w, b, g);
  const [N, C, H, W] = x.shape;
  const [, Og, kh, kw] = w.shape;
  const O = Og * g.groups;
  const c = { N, C, H, W, O, Og, Cg: C / g.groups, kh, kw, sh: g.stride[0], sw: g.stride[1], dh: g.dilation[0], dw: g.dilation[1], pt: g.pads.begin[0], pl: g.pads.begin[1] };
  const k = kernel('convTranspose2d', function (this: This, xs: number[][][], ws: number[][][], bs: number[]) {
    const ow = this.thread.x;
    const oh = this.thread.y;
    const z = this.thread.z;
    const n = Math.floor((z + 0.5) / this.constants.O);
    const o = z - n * this.constants.O;
    const grp = Math.floor((o + 0.5) / this.constants.Og);
    const m = o - grp * this.constants.Og;
    let s = bs[o];
    for (let cc = 0; cc < this.constants.Cg; cc++) {
      const ch = grp * this.constants.Cg + cc;
      for (let p = 0; p < this.constants.kh; p++) {
        const th = oh + this.constants.pt - p * this.constants.dh;
        const ih = Math.floor((th + 0.5) / this.constants.sh);
        if (th >= 0 && ih * this.constants.sh === th && ih < this.constants.H) {
          for (let q = 0; q < this.constants.kw; q++) {
            const tw = ow + this.constants.pl - q * this.constants.dw;
            const iw = Math.floor((tw + 0.5) / this.constants.sw);
            if (tw >= 0 && iw * this.constants.sw === tw && iw < this.constants.W) {
              s += xs[n * this.constants.C + ch][ih][iw] * ws[ch * this.constants.Og + m][p][q];
            }
          }
        }
      }
    }
    return s;
  } as KernelFunction, { output: [Wo, Ho, N * O], constants: c });
  const bias = b ? f32(b) : new Float32Array(O);
  return fromData(run(k, N * O * Ho * Wo, input(f32(x), [W, H, N * C]), input(f32(w), [kw, kh, C * Og]), bias), [N, O, Ho, Wo]);
}

/**
 * linear: y[r, o] = b[o] + Σ_i x[r, i]·w[o, i]. Each thread computes 4 output features of one row
 * (Array(4)); rows run along thread.x, so a SIMD quad loads 4 rows' x[r, i] and broadcasts the
 * 4 weights w[o..o+3, i]. Features are padded to a multiple of 4 with zero weights.
 */
export function linear(x: Arr, w: Arr, b: Arr | undefined): Arr {
  const inF = x.shape[x.shape.length - 1];
  const [outF, wIn] = w.shape;
  if (wIn !== inF) throw invalidInputs('/inputs/weight/shape/1', `weight has ${wIn} input features but x has ${inF}`);
  const rows = flat(x).length / Math.max(inF, 1);
  const OB = Math.ceil(outF / 4);
  const wp = new Float32Array(OB * 4 * Math.max(inF, 1));
  wp.set(flat(w));
  const bp = new Float32Array(OB * 4);
  if (b) bp.set(flat(b));
  const k = kernel('linear4', function (this: This, xs: number[][], ws: number[][], bs: number[]) {
    const r = this.thread.x;
    const o = this.thread.y * 4;
    let s0 = bs[o];
    let s1 = bs[o + 1];
    let s2 = bs[o + 2];
    let s3 = bs[o + 3];
    for (let i = 0; i < this.constants.inF; i++) {
      const xv = xs[r][i];
      s0 += xv * ws[o][i];
      s1 += xv * ws[o + 1][i];
      s2 += xv * ws[o + 2][i];
      s3 += xv * ws[o + 3][i];
    }
    return [s0, s1, s2, s3];
  } as KernelFunction, { output: [rows, OB], constants: { inF }, returnType: 'Array(4)' } as never);
  // result order: [ob][r][j] for feature o = 4·ob + j
  const res = run(k, OB * rows * 4, input(f32(x), [Math.max(inF, 1), rows]), input(wp, [Math.max(inF, 1), OB * 4]), bp);
  const y = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outF; o++) y[r * outF + o] = res[((o >> 2) * rows + r) * 4 + (o & 3)];
  return fromData(y, [...x.shape.slice(0, -1), outF]);
}

/** maxPool2d: max over the window's valid taps (padding never read, NaN propagates), and its index h·W + w. */
export function maxPool2d(x: Arr, g: PoolGeometry, returnIndices: boolean): { y: Arr; indices?: Arr } {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  const c = { H, W, kh: g.kernel[0], kw: g.kernel[1], sh: g.stride[0], sw: g.stride[1], dh: g.dilation[0], dw: g.dilation[1], pt: g.pads.begin[0], pl: g.pads.begin[1] };
  const body = function (this: This, xs: number[][][]) {
    const i = this.thread.y;
    const j = this.thread.x;
    let m = -Infinity;
    let arg = -1;
    for (let p = 0; p < this.constants.kh; p++) {
      const h = i * this.constants.sh - this.constants.pt + p * this.constants.dh;
      if (h >= 0 && h < this.constants.H) {
        for (let q = 0; q < this.constants.kw; q++) {
          const v = j * this.constants.sw - this.constants.pl + q * this.constants.dw;
          if (v >= 0 && v < this.constants.W) {
            const val = xs[this.thread.z][h][v];
            if (arg < 0) arg = h * this.constants.W + v;
            if (val > m || val !== val) {
              m = val;
              arg = h * this.constants.W + v;
            }
          }
        }
      }
    }
    if (this.constants.wantIndex === 1) return arg;
    return m;
  };
  const n = N * C * Ho * Wo;
  const xin = input(f32(x), [W, H, N * C]);
  const k = kernel('maxPool2d', body as KernelFunction, { output: [Wo, Ho, N * C], constants: { ...c, wantIndex: 0 } });
  const y = fromData(run(k, n, xin), [N, C, Ho, Wo]);
  if (!returnIndices) return { y };
  const ki = kernel('maxPool2dIndex', body as KernelFunction, { output: [Wo, Ho, N * C], constants: { ...c, wantIndex: 1 } });
  return { y, indices: fromData(run(ki, n, xin).map(Math.round), [N, C, Ho, Wo]) };
}

/** avgPool2d: Σ valid cells / divisor (window clipped to the padded extent for countIncludePad). */
export function avgPool2d(x: Arr, g: PoolGeometry, o: AvgOptions): Arr {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  const c = { H, W, kh: g.kernel[0], kw: g.kernel[1], sh: g.stride[0], sw: g.stride[1], pt: g.pads.begin[0], pl: g.pads.begin[1], pb: g.pads.end[0], pr: g.pads.end[1], cip: o.countIncludePad ? 1 : 0, div: o.divisorOverride ?? 0 };
  const k = kernel('avgPool2d', function (this: This, xs: number[][][]) {
    const h0 = this.thread.y * this.constants.sh - this.constants.pt;
    const w0 = this.thread.x * this.constants.sw - this.constants.pl;
    const h1 = Math.min(h0 + this.constants.kh, this.constants.H + this.constants.pb);
    const w1 = Math.min(w0 + this.constants.kw, this.constants.W + this.constants.pr);
    const pool = (h1 - h0) * (w1 - w0);
    let s = 0;
    let cells = 0;
    for (let p = 0; p < this.constants.kh; p++) {
      const h = h0 + p;
      if (h >= 0 && h < this.constants.H && h < h1) {
        for (let q = 0; q < this.constants.kw; q++) {
          const v = w0 + q;
          if (v >= 0 && v < this.constants.W && v < w1) {
            s += xs[this.thread.z][h][v];
            cells += 1;
          }
        }
      }
    }
    if (cells === 0) return 0;
    if (this.constants.div > 0) return s / this.constants.div;
    if (this.constants.cip === 1) return s / pool;
    return s / cells;
  } as KernelFunction, { output: [Wo, Ho, N * C], constants: c });
  return fromData(run(k, N * C * Ho * Wo, input(f32(x), [W, H, N * C])), [N, C, Ho, Wo]);
}

/**
 * softmax along dim (max-shifted), x viewed as [outer, size, inner]: a reduction kernel computes
 * each row's max m and Σ e^(x − m) (NaN when the row holds a NaN), then an elementwise kernel
 * divides.
 */
export function softmax(x: Arr, dim: number): Arr {
  const d = dim < 0 ? dim + x.shape.length : dim;
  const size = x.shape[d];
  const inner = x.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  const total = flat(x).length;
  const rows = total / Math.max(size, 1);
  const c = { size, inner };
  const xs = f32(x);
  const stats = kernel('softmaxStats', function (this: This, v: number[]) {
    const r = this.thread.x;
    const outer = Math.floor((r + 0.5) / this.constants.inner);
    const base = outer * this.constants.size * this.constants.inner + (r - outer * this.constants.inner);
    let m = -Infinity;
    let nan = 0;
    for (let j = 0; j < this.constants.size; j++) {
      const e = v[base + j * this.constants.inner];
      if (e !== e) nan = 1;
      if (e > m) m = e;
    }
    if (this.thread.y === 0) return m;
    let s = 0;
    for (let j = 0; j < this.constants.size; j++) s += Math.exp(v[base + j * this.constants.inner] - m);
    if (nan === 1) return Math.sqrt(-1); // NaN (the NaN literal is not allowed in kernels)
    return s;
  } as KernelFunction, { output: [rows, 2], constants: c });
  const ms = run(stats, 2 * rows, xs);
  const divide = kernel('softmaxDivide', function (this: This, v: number[], mx: number[], sm: number[]) {
    const t = this.thread.x;
    const blk = this.constants.size * this.constants.inner;
    const outer = Math.floor((t + 0.5) / blk);
    const rest = t - outer * blk;
    const r = outer * this.constants.inner + (rest - Math.floor((rest + 0.5) / this.constants.inner) * this.constants.inner);
    return Math.exp(v[t] - mx[r]) / sm[r];
  } as KernelFunction, { output: [total], constants: c });
  return fromData(run(divide, total, xs, Float32Array.from(ms.subarray(0, rows)), Float32Array.from(ms.subarray(rows))), x.shape);
}

/** hardswish, elementwise: 0 up to −3, x from 3, x(x + 3)/6 between; NaN and −∞ give NaN (the reference's rules). */
export function hardswish(x: Arr): Arr {
  const total = flat(x).length;
  if (total === 0) return fromData(new Float64Array(0), x.shape);
  const k = kernel('hardswish', function (this: This, v: number[]) {
    const e = v[this.thread.x];
    if (e <= -3) return 0;
    if (e >= 3) return e;
    return (e * (e + 3)) / 6;
  } as KernelFunction, { output: [total] });
  const y = run(k, total, f32(x));
  // NaN and ±∞ on the CPU: GLSL has no NaN literal and WebGL/headless-gl drivers need not keep NaN
  // through comparisons or give sqrt(−1) as NaN (Mesa gives 0), so the kernel sees finite values' rules only
  const xd = flat(x);
  for (let i = 0; i < total; i++) if (!Number.isFinite(xd[i])) y[i] = xd[i] === Infinity ? Infinity : NaN;
  return fromData(y, x.shape);
}

/** batchNorm: y = (x − μ)/√(σ² + ε)·γ + β per channel; training computes μ and the biased σ² first. */
export function batchNorm(x: Arr, mean: Float64Array | undefined, variance: Float64Array | undefined, gamma: Arr | undefined, beta: Arr | undefined, eps: number): { y: Arr; mean: Float64Array; variance: Float64Array } {
  const [N, C] = x.shape;
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xs = f32(x);
  const c = { N, C, inner };
  if (!mean || !variance) {
    const stats = kernel('bnStats', function (this: This, v: number[]) {
      const ch = this.thread.x;
      let s = 0;
      for (let n = 0; n < this.constants.N; n++) for (let k = 0; k < this.constants.inner; k++) s += v[(n * this.constants.C + ch) * this.constants.inner + k];
      const mu = s / (this.constants.N * this.constants.inner);
      if (this.thread.y === 0) return mu;
      let q = 0;
      for (let n = 0; n < this.constants.N; n++)
        for (let k = 0; k < this.constants.inner; k++) {
          const dlt = v[(n * this.constants.C + ch) * this.constants.inner + k] - mu;
          q += dlt * dlt;
        }
      return q / (this.constants.N * this.constants.inner);
    } as KernelFunction, { output: [C, 2], constants: c });
    const r = run(stats, 2 * C, xs);
    mean = r.slice(0, C);
    variance = r.slice(C);
  }
  const norm = kernel('bnNorm', function (this: This, v: number[], mu: number[], vr: number[], ga: number[], be: number[]) {
    const t = this.thread.x;
    const blk = this.constants.C * this.constants.inner;
    const ch = Math.floor((t - Math.floor((t + 0.5) / blk) * blk + 0.5) / this.constants.inner);
    return ((v[t] - mu[ch]) / Math.sqrt(vr[ch] + this.constants.eps)) * ga[ch] + be[ch];
  } as KernelFunction, { output: [xs.length], constants: { ...c, eps } });
  const ga = gamma ? f32(gamma) : new Float32Array(C).fill(1);
  const be = beta ? f32(beta) : new Float32Array(C);
  const y = fromData(run(norm, xs.length, xs, Float32Array.from(mean), Float32Array.from(variance), ga, be), x.shape);
  return { y, mean, variance };
}

/** boxIou of xyxy boxes: inter / (area₁ + area₂ − inter), 0 for an empty union. */
export function boxIou(a: Float64Array, b: Float64Array, N: number, M: number, plus: number): Arr {
  if (N === 0 || M === 0) return fromData(new Float64Array(0), [N, M]);
  const k = kernel('boxIou', function (this: This, p: number[][], q: number[][]) {
    const i = this.thread.y;
    const j = this.thread.x;
    const pl = this.constants.plus;
    const iw = Math.max(Math.min(p[i][2], q[j][2]) - Math.max(p[i][0], q[j][0]) + pl, 0);
    const ih = Math.max(Math.min(p[i][3], q[j][3]) - Math.max(p[i][1], q[j][1]) + pl, 0);
    const inter = iw * ih;
    const aa = Math.max(p[i][2] - p[i][0] + pl, 0) * Math.max(p[i][3] - p[i][1] + pl, 0);
    const bb = Math.max(q[j][2] - q[j][0] + pl, 0) * Math.max(q[j][3] - q[j][1] + pl, 0);
    const u = aa + bb - inter;
    if (u > 0) return inter / u;
    return 0;
  } as KernelFunction, { output: [M, N], constants: { plus } });
  return fromData(run(k, N * M, input(Float32Array.from(a), [4, N]), input(Float32Array.from(b), [4, M])), [N, M]);
}

/**
 * roiAlign (torchvision's CPU kernel, avg mode) in float32: one thread per output bin; the sample
 * grid per bin is ⌈roi/pooled⌉ (adaptive) or samplingRatio, samples outside [−1, H] × [−1, W]
 * count as 0 but stay in the divisor. Grid loops run to a constant bound with a guard.
 */
export function roiAlign(x: Arr, rois: Arr, o: RoiAlignOptions): Arr {
  const [N, C, H, W] = x.shape;
  const K = rois.shape[0];
  const r = flat(rois);
  checkRois(x, rois);
  let maxGrid = Math.max(o.samplingRatio, 1);
  for (let k = 0; k < K; k++) {
    if (o.samplingRatio <= 0) {
      const off = o.aligned ? 0.5 : 0;
      const rw = r[5 * k + 3] * o.spatialScale - off - (r[5 * k + 1] * o.spatialScale - off);
      const rh = r[5 * k + 4] * o.spatialScale - off - (r[5 * k + 2] * o.spatialScale - off);
      maxGrid = Math.max(maxGrid, Math.ceil(Math.max(rw, 1) / o.pw), Math.ceil(Math.max(rh, 1) / o.ph));
    }
  }
  if (K === 0) return fromData(new Float64Array(0), [0, C, o.ph, o.pw]);
  // N is unused by the body but keys the compiled kernel to the input's batch size
  const c = { N, C, H, W, ph: o.ph, pw: o.pw, scale: o.spatialScale, sr: o.samplingRatio, aligned: o.aligned ? 1 : 0, maxGrid: maxGrid + 1 };
  const k = kernel('roiAlign', function (this: This, xs: number[][][], rs: number[][]) {
    const j = this.thread.x;
    const i = this.thread.y;
    const z = this.thread.z;
    const kk = Math.floor((z + 0.5) / this.constants.C);
    const ch = z - kk * this.constants.C;
    const b = Math.floor(rs[kk][0]);
    let off = 0;
    if (this.constants.aligned === 1) off = 0.5;
    const sw = rs[kk][1] * this.constants.scale - off;
    const sh = rs[kk][2] * this.constants.scale - off;
    let rw = rs[kk][3] * this.constants.scale - off - sw;
    let rh = rs[kk][4] * this.constants.scale - off - sh;
    if (this.constants.aligned === 0) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bh = rh / this.constants.ph;
    const bw = rw / this.constants.pw;
    let gh = this.constants.sr;
    let gw = this.constants.sr;
    if (this.constants.sr <= 0) {
      gh = Math.ceil(rh / this.constants.ph);
      gw = Math.ceil(rw / this.constants.pw);
    }
    const count = Math.max(gh * gw, 1);
    const plane = b * this.constants.C + ch;
    let s = 0;
    for (let iy = 0; iy < this.constants.maxGrid; iy++) {
      if (iy < gh) {
        const y = sh + i * bh + ((iy + 0.5) * bh) / gh;
        for (let ix = 0; ix < this.constants.maxGrid; ix++) {
          if (ix < gw) {
            const xq = sw + j * bw + ((ix + 0.5) * bw) / gw;
            if (y >= -1 && y <= this.constants.H && xq >= -1 && xq <= this.constants.W) {
              let yy = y;
              let xx = xq;
              if (yy <= 0) yy = 0;
              if (xx <= 0) xx = 0;
              let yl = Math.floor(yy);
              let xl = Math.floor(xx);
              let yh = yl + 1;
              let xh = xl + 1;
              if (yl >= this.constants.H - 1) {
                yl = this.constants.H - 1;
                yh = yl;
                yy = yl;
              }
              if (xl >= this.constants.W - 1) {
                xl = this.constants.W - 1;
                xh = xl;
                xx = xl;
              }
              const ly = yy - yl;
              const lx = xx - xl;
              s += (1 - ly) * (1 - lx) * xs[plane][yl][xl] + (1 - ly) * lx * xs[plane][yl][xh] + ly * (1 - lx) * xs[plane][yh][xl] + ly * lx * xs[plane][yh][xh];
            }
          }
        }
      }
    }
    return s / count;
  } as KernelFunction, { output: [o.pw, o.ph, K * C], constants: c });
  return fromData(run(k, K * C * o.ph * o.pw, input(f32(x), [W, H, N * C]), input(Float32Array.from(r), [5, K])), [K, C, o.ph, o.pw]);
}
