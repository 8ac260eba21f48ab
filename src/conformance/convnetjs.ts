/**
 * The convnetjs 0.3 conformance target (karpathy/convnetjs): float64 Vols in HWC order, one batch
 * element at a time, layers driven through their forward passes. Conv: one stride for both axes,
 * symmetric padding, no dilation or groups; max pooling with its own padding; LRN; activations
 * (elementwise, so any tensor runs as one 1×1×n Vol).
 */
import { createRequire } from 'node:module';
// every family registered first, in the catalogue's order (importing single families below must not reorder them)
import '../ops/index.js';
import { fromData, type Arr } from '../tensor.js';
import { flat } from '../reference/common.js';
import { resolvePadding, type PaddingForm } from '../params.js';
import { adapterFor, type OpAdapter, type TargetAdapter } from './adapter.js';
import { conv2d } from '../ops/conv.js';
import { maxPool2d } from '../ops/pooling.js';
import { localResponseNorm } from '../ops/normalization.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Vol = { w: Float64Array; sx: number; sy: number; depth: number; set(x: number, y: number, d: number, v: number): void; get(x: number, y: number, d: number): number };

export function convnetjsTarget(): TargetAdapter {
  let cn: any;
  try {
    cn = createRequire(import.meta.url)('convnetjs');
  } catch (e) {
    throw new Error(`the convnetjs target needs convnetjs (npm install convnetjs): ${(e as Error).message}`);
  }
  /** One image [C, H, W] of x as a Vol (sx = W, sy = H, depth = C). */
  const vol = (x: Arr, n: number): Vol => {
    const [, C, H, W] = x.shape;
    const v: Vol = new cn.Vol(W, H, C, 0.0);
    const d = flat(x);
    for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) v.set(w, h, c, d[((n * C + c) * H + h) * W + w]);
    return v;
  };
  /** Runs a layer on each image and stacks the outputs back into NCHW. */
  const perImage = (x: Arr, make: () => any): Arr => {
    const N = x.shape[0];
    const outs: Vol[] = [];
    for (let n = 0; n < N; n++) outs.push(make().forward(vol(x, n), false));
    const { sx: W, sy: H, depth: C } = outs[0];
    const y = new Float64Array(N * C * H * W);
    outs.forEach((o, n) => {
      for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) y[((n * C + c) * H + h) * W + w] = o.get(w, h, c);
    });
    return fromData(y, [N, C, H, W]);
  };
  /** An elementwise layer on every value of x at once (a 1×1×n Vol), back in x's shape. */
  const elementwise = (x: Arr, make: (n: number) => any): Arr => {
    const d = flat(x);
    if (d.length === 0) return fromData(new Float64Array(0), x.shape);
    const v: Vol = new cn.Vol(1, 1, d.length, 0.0);
    v.w.set(d);
    return fromData(Float64Array.from(make(d.length).forward(v, false).w as Float64Array), x.shape);
  };
  const symmetric = (padding: PaddingForm, k: number[], d: number[], x: Arr, stride: number[]): number | undefined => {
    const pads = resolvePadding(padding, 2, k, d, stride, '/params/padding', x.shape.slice(2));
    return pads.begin.every((v, i) => v === pads.begin[0] && pads.end[i] === v) ? pads.begin[0] : undefined;
  };
  const ops: Record<string, OpAdapter> = {
    conv2d: adapterFor(conv2d, {
      unsupported(i, p) {
        const s = p.stride.slice();
        const [kh, kw] = i.weight.shape.slice(2);
        if (p.groups !== 1) return 'groups';
        if (p.flip) return 'flip';
        if (p.dilation.some((v) => v !== 1)) return 'dilation';
        if (s[0] !== s[1]) return 'different strides per axis';
        if (symmetric(p.padding, [kh, kw], [1, 1], i.x, s) === undefined) return 'asymmetric padding';
        return undefined;
      },
      run(i, p) {
        const [O, C, kh, kw] = i.weight.shape;
        const [, , H, W] = i.x.shape;
        const wd = flat(i.weight);
        const bd = i.bias ? flat(i.bias) : undefined;
        const y = perImage(i.x, () => {
          const layer = new cn.ConvLayer({ in_sx: W, in_sy: H, in_depth: C, sx: kw, sy: kh, filters: O, stride: p.stride[0], pad: symmetric(p.padding, [kh, kw], [1, 1], i.x, p.stride.slice()), bias_pref: 0 });
          for (let o = 0; o < O; o++) {
            const f: Vol = layer.filters[o];
            for (let c = 0; c < C; c++) for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) f.set(b, a, c, wd[((o * C + c) * kh + a) * kw + b]);
            layer.biases.w[o] = bd ? bd[o] : 0;
          }
          return layer;
        });
        return { y };
      },
    }),
    maxPool2d: adapterFor(maxPool2d, {
      unsupported(i, p) {
        const k = p.kernel.slice();
        const s = p.stride.slice();
        if (p.ceilMode) return 'ceilMode';
        if (p.returnIndices) return 'returnIndices';
        if (p.dilation.some((v) => v !== 1)) return 'dilation';
        if (s[0] !== s[1]) return 'different strides per axis';
        if (symmetric(p.padding, k, [1, 1], i.x, s) === undefined) return 'asymmetric padding';
        return undefined;
      },
      run(i, p) {
        const [kh, kw] = p.kernel;
        const [, C, H, W] = i.x.shape;
        return { y: perImage(i.x, () => new cn.PoolLayer({ in_sx: W, in_sy: H, in_depth: C, sx: kw, sy: kh, stride: p.stride[0], pad: symmetric(p.padding, [kh, kw], [1, 1], i.x, p.stride.slice()) })) };
      },
    }),
    // elementwise layers: any tensor, its values laid out as one 1×1×n Vol
    relu: { run: (i) => ({ y: elementwise(i.x, (n) => new cn.ReluLayer({ in_sx: 1, in_sy: 1, in_depth: n })) }) },
    sigmoid: { run: (i) => ({ y: elementwise(i.x, (n) => new cn.SigmoidLayer({ in_sx: 1, in_sy: 1, in_depth: n })) }) },
    tanh: { run: (i) => ({ y: elementwise(i.x, (n) => new cn.TanhLayer({ in_sx: 1, in_sy: 1, in_depth: n })) }) },
    localResponseNorm: adapterFor(localResponseNorm, {
      unsupported: (i, p) => (i.x.shape.length !== 4 ? 'x of rank other than 4' : p.size % 2 === 0 ? 'an even size' : undefined),
      run: (i, p) => ({ y: perImage(i.x, () => new cn.LocalResponseNormalizationLayer({ in_sx: i.x.shape[3], in_sy: i.x.shape[2], in_depth: i.x.shape[1], k: p.k, n: p.size, alpha: p.alpha, beta: p.beta })) }),
    }),
  };
  return { name: 'convnetjs', description: 'convnetjs 0.3.0 (float64, HWC Vols)', precision: 'float64', ops };
}
