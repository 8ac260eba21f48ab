/**
 * Exact reference: pooling (max, average, sum, Lp, adaptive, global). NCHW; 1-D ops run as 2-D
 * on [N, C, 1, L]. Window geometry and rounding follow PyTorch (ATen Pool.h, MaxPoolKernel.cpp,
 * AvgPoolKernel.cpp), with asymmetric padding [top, bottom, left, right] as an extension.
 */
import { ExactSum } from '../exact.js';
import { invalidInputs, invalidParams } from '../errors.js';
import type { Arr } from '../tensor.js';
import { fromData } from '../tensor.js';
import { poolOutSize, type Pads } from '../geometry.js';
import { checkDy, flat, ScatterSum } from './common.js';

export interface PoolGeometry {
  kernel: number[];
  stride: number[];
  dilation: number[];
  pads: Pads;
  ceilMode: boolean;
}

export { poolOutSize } from '../geometry.js';

const AXES = ['height', 'width'];

/**
 * Checks PyTorch's padding rule — every pad at most ⌊kernelSize/2⌋ per axis, the undilated kernel
 * (torch 1.13: "pad should be at most half of kernel size") — and returns the output size.
 */
export function poolShape(H: number, W: number, g: PoolGeometry, path = '/params/padding'): [number, number] {
  const ins = [H, W];
  const outs: number[] = [];
  for (let a = 0; a < 2; a++) {
    const eff = g.dilation[a] * (g.kernel[a] - 1) + 1;
    for (const p of [g.pads.begin[a], g.pads.end[a]]) {
      if (p > Math.floor(g.kernel[a] / 2)) {
        throw invalidParams(path, `padding ${p} along the ${AXES[a]} is more than half the kernel size ${g.kernel[a]} (PyTorch's rule: pad ≤ ⌊kernelSize/2⌋, dilation not counted)`);
      }
    }
    const o = poolOutSize(ins[a], g.kernel[a], g.stride[a], g.dilation[a], g.pads.begin[a], g.pads.end[a], g.ceilMode);
    if (o < 1) {
      throw invalidInputs('/inputs/x/shape', `the ${AXES[a]} ${ins[a]} (padded ${ins[a] + g.pads.begin[a] + g.pads.end[a]}) is smaller than the ${g.dilation[a] > 1 ? 'dilated ' : ''}kernel ${eff}`);
    }
    outs.push(o);
  }
  return [outs[0], outs[1]];
}

/**
 * Max pooling. For output (i, j) the window taps are rows h = i·s_h − P_h⁻ + p·d_h (p < k_h) and
 * likewise columns; taps in the padding are never read (−∞ padding):
 *
 *   y[n,c,i,j] = max over valid taps of x[n,c,h,w],   index = h·W + w of the winner
 *
 * The scan is row-major and a tap replaces the maximum when `v > max || isNaN(v)`: the first
 * maximum wins ties and NaN propagates (the last NaN's index), as PyTorch's CPU kernel.
 */
export function maxPool2dRef(x: Arr, g: PoolGeometry): { y: Arr; indices: Arr } {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  const xd = flat(x);
  const y = new Float64Array(N * C * Ho * Wo);
  const ind = new Float64Array(y.length);
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        let max = -Infinity;
        let arg = -1;
        for (let p = 0; p < g.kernel[0]; p++) {
          const h = i * g.stride[0] - g.pads.begin[0] + p * g.dilation[0];
          if (h < 0 || h >= H) continue;
          for (let q = 0; q < g.kernel[1]; q++) {
            const w = j * g.stride[1] - g.pads.begin[1] + q * g.dilation[1];
            if (w < 0 || w >= W) continue;
            const v = xd[base + h * W + w];
            if (arg < 0) arg = h * W + w; // PyTorch starts from the first valid cell
            if (v > max || Number.isNaN(v)) {
              max = v;
              arg = h * W + w;
            }
          }
        }
        y[t] = max;
        ind[t++] = arg;
      }
    }
  }
  return { y: fromData(y, [N, C, Ho, Wo]), indices: fromData(ind, [N, C, Ho, Wo]) };
}

export interface AvgOptions {
  countIncludePad: boolean;
  divisorOverride?: number;
}

/**
 * Average pooling (no dilation). With h₀ = i·s − P⁻ and h₁ = min(h₀ + k, H + P⁺) (the window
 * clipped to the padded extent, so a ceil-mode overhang is not counted), likewise w₀, w₁:
 *
 *   y = Σ_{valid cells} x / divisor,
 *   divisor = divisorOverride, else (h₁−h₀)(w₁−w₀) with countIncludePad, else the valid cells;
 *
 * a window without valid cells gives 0. The sum is exact, then divided once.
 */
export function avgPool2dRef(x: Arr, g: PoolGeometry, opts: AvgOptions): Arr {
  const [N, C, H, W] = x.shape;
  const [Ho, Wo] = poolShape(H, W, g);
  const xd = flat(x);
  const y = new Float64Array(N * C * Ho * Wo);
  const acc = new ExactSum();
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (let i = 0; i < Ho; i++) {
      for (let j = 0; j < Wo; j++) {
        const win = avgWindow(i, j, H, W, g, opts);
        if (!win) {
          y[t++] = 0;
          continue;
        }
        const { h0, h1, w0, w1, divisor } = win;
        acc.reset();
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc.add(xd[base + h * W + w]);
        y[t++] = acc.value() / divisor;
      }
    }
  }
  return fromData(y, [N, C, Ho, Wo]);
}

/**
 * The window of average-pool output (i, j), clipped to the input, and its divisor; undefined when
 * the window holds no input cell. h₁ is first clipped to the padded extent H + P⁺, which is what
 * countIncludePad divides by (so a ceil-mode overhang is not counted).
 */
export function avgWindow(i: number, j: number, H: number, W: number, g: PoolGeometry, opts: AvgOptions): { h0: number; h1: number; w0: number; w1: number; divisor: number } | undefined {
  const ph0 = i * g.stride[0] - g.pads.begin[0];
  const pw0 = j * g.stride[1] - g.pads.begin[1];
  const ph1 = Math.min(ph0 + g.kernel[0], H + g.pads.end[0]);
  const pw1 = Math.min(pw0 + g.kernel[1], W + g.pads.end[1]);
  const [h0, w0, h1, w1] = [Math.max(ph0, 0), Math.max(pw0, 0), Math.min(ph1, H), Math.min(pw1, W)];
  if (h0 >= h1 || w0 >= w1) return undefined;
  const divisor = opts.divisorOverride ?? (opts.countIncludePad ? (ph1 - ph0) * (pw1 - pw0) : (h1 - h0) * (w1 - w0));
  return { h0, h1, w0, w1, divisor };
}

/** Sum pooling: Σ over the window's valid cells (zero padding), exact. */
export function sumPool2dRef(x: Arr, g: PoolGeometry): Arr {
  return avgPool2dRef(x, g, { countIncludePad: true, divisorOverride: 1 });
}

/**
 * Lp pooling as PyTorch's lp_pool2d (no padding, no absolute value):
 *
 *   y = (Σ_window x^p · (k_h·k_w / cells))^(1/p)
 *
 * where `cells` is the window clipped to the input: PyTorch computes avg_pool2d(x^p)·k_h·k_w, so a
 * ceil-mode partial window is rescaled to the full kernel area. A negative sum under an even root
 * gives NaN, as PyTorch.
 */
export function lpPool2dRef(x: Arr, p: number, g: PoolGeometry): Arr {
  const xd = flat(x);
  const powered = fromData(xd.map((v) => Math.pow(v, p)), x.shape);
  const avg = avgPool2dRef(powered, g, { countIncludePad: true });
  const area = g.kernel[0] * g.kernel[1];
  return fromData(flat(avg).map((s) => Math.pow(s * area, 1 / p)), avg.shape);
}

/** Adaptive bins: start = ⌊o·in/out⌋, end = ⌈(o+1)·in/out⌉ (bins may overlap). */
function bins(inSize: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, o) => [Math.floor((o * inSize) / out), Math.ceil(((o + 1) * inSize) / out)]);
}

/** Adaptive average (exact sum ÷ bin size) or max (first max wins, NaN propagates) pooling to outH × outW. */
export function adaptivePool2dRef(x: Arr, outH: number, outW: number, kind: 'avg' | 'max'): { y: Arr; indices: Arr } {
  const [N, C, H, W] = x.shape;
  if (H === 0 || W === 0) throw invalidInputs('/inputs/x/shape', 'adaptive pooling needs a non-empty input');
  const xd = flat(x);
  const rows = bins(H, outH);
  const cols = bins(W, outW);
  const y = new Float64Array(N * C * outH * outW);
  const ind = new Float64Array(y.length);
  const acc = new ExactSum();
  let t = 0;
  for (let nc = 0; nc < N * C; nc++) {
    const base = nc * H * W;
    for (const [h0, h1] of rows) {
      for (const [w0, w1] of cols) {
        if (kind === 'avg') {
          acc.reset();
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc.add(xd[base + h * W + w]);
          y[t++] = acc.value() / ((h1 - h0) * (w1 - w0));
        } else {
          let max = -Infinity;
          let arg = h0 * W + w0;
          for (let h = h0; h < h1; h++)
            for (let w = w0; w < w1; w++) {
              const v = xd[base + h * W + w];
              if (v > max || Number.isNaN(v)) {
                max = v;
                arg = h * W + w;
              }
            }
          ind[t] = arg;
          y[t++] = max;
        }
      }
    }
  }
  return { y: fromData(y, [N, C, outH, outW]), indices: fromData(ind, [N, C, outH, outW]) };
}

// ---- backward passes (the gradients of the ops above; see ops/backward.ts for how they are registered) ----

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
