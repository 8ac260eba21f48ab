/** Built-in conformance targets: our own float32 backends (gpu.js, WebAssembly SIMD) and TensorFlow.js. */
// every family registered first, in the catalogue's order (importing single families below must not reorder them)
import '../ops/index.js';
import { allOps, hasOp, kernelOf, type FastBackend, type Inputs, type Outputs } from '../registry.js';
import { fromData, type Arr } from '../tensor.js';
import { flat } from '../reference/common.js';
import { perDim, resolvePadding, type PaddingForm } from '../params.js';
import { adapterFor, type OpAdapter, type TargetAdapter } from './adapter.js';
import { conv2d } from '../ops/conv.js';
import { convTranspose2d } from '../ops/transposed.js';
import { avgPool2d, maxPool2d } from '../ops/pooling.js';
import { upsample2d } from '../ops/resample.js';
import { leakyRelu, softmax } from '../ops/activation.js';
import { nms } from '../ops/detection.js';

/** One of our own float32 backends, every op it implements. */
export function ownTarget(backend: FastBackend): TargetAdapter {
  const ops: Record<string, OpAdapter> = {};
  for (const op of allOps()) {
    const run = kernelOf(op, backend);
    if (run) ops[op.name] = { run: (i, p) => run(i, p) };
  }
  const description = backend === 'accelerated' ? 'cnn-oracle’s own gpu.js backend' : 'cnn-oracle’s own WebAssembly SIMD backend';
  return { name: backend, description, precision: 'float32', ops };
}

type TF = typeof import('@tensorflow/tfjs-core');

/** TensorFlow.js with its CPU or WebAssembly backend (NHWC, TF semantics), through the public op API. */
export async function tfjsTarget(backend: 'cpu' | 'wasm'): Promise<TargetAdapter> {
  let tf: TF;
  const pkg = `@tensorflow/tfjs-backend-${backend}`;
  try {
    const [log, warn] = [console.log, console.warn];
    console.log = console.warn = () => {}; // tfjs greets Node users ("install tfjs-node") on first use
    try {
      tf = await import('@tensorflow/tfjs-core');
      if (backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const { createRequire } = await import('node:module');
        const { dirname, join, sep } = await import('node:path');
        // the .wasm binaries ship inside the package: load them from disk, never from a CDN
        wasm.setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep);
      } else await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend(backend);
      tf.dispose(tf.relu(tf.scalar(1)));
    } finally {
      [console.log, console.warn] = [log, warn];
    }
  } catch (e) {
    throw new Error(`the tfjs-${backend} target needs @tensorflow/tfjs-core and ${pkg} (npm install them): ${(e as Error).message}`);
  }
  type Tensor = import('@tensorflow/tfjs-core').Tensor;
  type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
  type Pad4 = [[number, number], [number, number], [number, number], [number, number]];
  const nhwc = (a: Arr) => tf.transpose(tf.tensor4d(Float32Array.from(flat(a)), a.shape as [number, number, number, number]), [0, 2, 3, 1]) as Tensor4D;
  /**
   * Runs `f` (synchronous tfjs calls) inside tf.tidy, so every intermediate tensor is freed, reads
   * the result back as NCHW float64 and frees it too: a call leaves no tensor behind.
   */
  const back = async (f: () => Tensor): Promise<Arr> => {
    const y = tf.tidy(() => {
      const r = f();
      return r.rank === 4 ? tf.transpose(r, [0, 3, 1, 2]) : r;
    });
    try {
      return fromData(new Float64Array((await y.data()) as Float32Array), y.shape);
    } finally {
      y.dispose();
    }
  };
  /**
   * The last filter uploaded, kept across calls (a conformance run and its shrinking call the same
   * op with the same weight many times): the same Arr is uploaded once; a new one replaces it.
   */
  const filters = new Map<string, { of: Arr; t: Tensor4D }>();
  const filter = (slot: string, w: Arr, perm: number[]): Tensor4D => {
    const kept = filters.get(slot);
    if (kept?.of === w) return kept.t;
    kept?.t.dispose();
    const t = tf.tidy(() => tf.transpose(tf.tensor(Float32Array.from(flat(w)), w.shape) as Tensor, perm) as unknown as Tensor4D);
    filters.set(slot, { of: w, t });
    return t;
  };
  const t = (a: Arr) => tf.tensor(Float32Array.from(flat(a)), a.shape);
  /** How a user would write the padding for tfjs: a number when it is one number, else explicit. */
  const tfPad = (padding: PaddingForm, k: number[], d: number[], stride: number[], x: Arr) => {
    if (padding === 'same') return 'same' as const;
    if (padding === 'valid' || padding === 0) return 'valid' as const;
    const pads = resolvePadding(padding, 2, k, d, stride, '/params/padding', x.shape.slice(2));
    const sym = pads.begin[0] === pads.end[0] && pads.begin[1] === pads.end[1] && pads.begin[0] === pads.begin[1];
    if (sym) return pads.begin[0];
    return [[0, 0], [pads.begin[0], pads.end[0]], [pads.begin[1], pads.end[1]], [0, 0]] as Pad4;
  };
  const unary = (f: (x: Tensor) => Tensor): OpAdapter => ({ run: async (i) => ({ y: await back(() => f(t(i.x))) }) });
  const ops: Record<string, OpAdapter> = {
    conv2d: adapterFor(conv2d, {
      unsupported(i, p) {
        if (p.groups !== 1) return 'groups (tfjs has depthwiseConv2d only)';
        if (p.flip) return 'flip';
        if (p.stride.some((v) => v !== 1) && p.dilation.some((v) => v !== 1)) return 'stride and dilation together';
        return undefined;
      },
      async run(i, p) {
        const k = i.weight.shape.slice(2);
        const d: [number, number] = [p.dilation[0], p.dilation[1]];
        const s: [number, number] = [p.stride[0], p.stride[1]];
        const f = filter('conv2d', i.weight, [2, 3, 1, 0]); // [O, C, kh, kw] → [kh, kw, C, O]
        return {
          y: await back(() => {
            const y = tf.conv2d(nhwc(i.x), f, s, tfPad(p.padding, k, d, s, i.x), 'NHWC', d);
            return i.bias ? tf.add(y, t(i.bias)) : y;
          }),
        };
      },
    }),
    convTranspose2d: adapterFor(convTranspose2d, {
      unsupported(i, p) {
        if (p.groups !== 1) return 'groups';
        if (p.dilation.some((v) => v !== 1)) return 'dilation (tfjs conv2dTranspose has none)';
        return undefined;
      },
      async run(i, p) {
        const [N, , H, W] = i.x.shape;
        const [, O, kh, kw] = i.weight.shape;
        const s = p.stride.slice();
        const op2 = p.outputPadding;
        const pads = resolvePadding(p.padding, 2, [kh, kw], [1, 1], null, '/params/padding');
        const outH = (H - 1) * s[0] - pads.begin[0] - pads.end[0] + kh + op2[0];
        const outW = (W - 1) * s[1] - pads.begin[1] - pads.end[1] + kw + op2[1];
        const f = filter('convTranspose2d', i.weight, [2, 3, 1, 0]); // [C, O, kh, kw] → [kh, kw, O, C]
        const pad = tfPad(p.padding, [kh, kw], [1, 1], s, i.x);
        return {
          y: await back(() => {
            const y = tf.conv2dTranspose(nhwc(i.x), f, [N, outH, outW, O], s as [number, number], pad as 'valid' | number);
            return i.bias ? tf.add(y, t(i.bias)) : y;
          }),
        };
      },
    }),
    upsample2d: adapterFor(upsample2d, {
      unsupported(i, p) {
        if (p.scaleFactor === undefined) return undefined;
        const f = perDim(p.scaleFactor, 2);
        const [H, W] = i.x.shape.slice(2);
        return f.some((v, k) => !Number.isInteger(v * [H, W][k])) ? 'a scale factor whose output size is not in · factor (tfjs scales by in/out)' : undefined;
      },
      async run(i, p) {
        const [H, W] = i.x.shape.slice(2);
        const [h, w] = p.size !== undefined ? perDim(p.size, 2) : perDim(p.scaleFactor, 2).map((v, k) => Math.floor([H, W][k] * v));
        const size: [number, number] = [h, w];
        // PyTorch's nearest is TF's legacy rule (⌊dst·in/out⌋); bilinear without aligned corners is half-pixel centres
        const y = await back(() =>
          p.mode === 'nearest' ? tf.image.resizeNearestNeighbor(nhwc(i.x), size, false, false) : tf.image.resizeBilinear(nhwc(i.x), size, !!p.alignCorners, !p.alignCorners),
        );
        return { y };
      },
    }),
    maxPool2d: adapterFor(maxPool2d, {
      unsupported: (i, p) => (p.ceilMode ? 'ceilMode' : p.dilation.some((v) => v !== 1) ? 'dilation' : p.returnIndices ? 'returnIndices' : undefined),
      async run(i, p) {
        const k: [number, number] = [p.kernel[0], p.kernel[1]];
        const s: [number, number] = [p.stride[0], p.stride[1]];
        return { y: await back(() => tf.maxPool(nhwc(i.x), k, s, tfPad(p.padding, k, [1, 1], s, i.x))) };
      },
    }),
    avgPool2d: adapterFor(avgPool2d, {
      unsupported: (i, p) =>
        p.ceilMode ? 'ceilMode' : p.divisorOverride !== undefined ? 'divisorOverride' : p.countIncludePad && perDim(p.padding, 2).some((v) => v !== 0) ? 'countIncludePad with padding (TF never counts padding)' : undefined,
      async run(i, p) {
        const k: [number, number] = [p.kernel[0], p.kernel[1]];
        const s: [number, number] = [p.stride[0], p.stride[1]];
        return { y: await back(() => tf.avgPool(nhwc(i.x), k, s, tfPad(p.padding, k, [1, 1], s, i.x))) };
      },
    }),
    relu: unary((x) => tf.relu(x)),
    sigmoid: unary((x) => tf.sigmoid(x)),
    tanh: unary((x) => tf.tanh(x)),
    leakyRelu: adapterFor(leakyRelu, { run: async (i, p) => ({ y: await back(() => tf.leakyRelu(t(i.x), p.negativeSlope)) }) }),
    softmax: adapterFor(softmax, {
      unsupported: (i, p) => (p.dim === -1 || p.dim === i.x.shape.length - 1 ? undefined : 'softmax over a dim other than the last'),
      run: async (i) => ({ y: await back(() => tf.softmax(t(i.x))) }),
    }),
    linear: {
      unsupported: (i) => (i.x.shape.length === 2 ? undefined : 'x of rank other than 2'),
      async run(i) {
        const w = filter('linear', i.weight, [0, 1]);
        return {
          y: await back(() => {
            const y = tf.matMul(t(i.x) as import('@tensorflow/tfjs-core').Tensor2D, w as unknown as import('@tensorflow/tfjs-core').Tensor2D, false, true);
            return i.bias ? tf.add(y, t(i.bias)) : y;
          }),
        };
      },
    },
    nms: adapterFor(nms, {
      unsupported: (i, p) => (p.boxFormat !== 'xyxy' ? 'box formats other than xyxy' : p.pixelInclusive ? 'pixelInclusive' : undefined),
      async run(i, p) {
        const b = flat(i.boxes);
        const n = i.boxes.shape[0];
        const yxyx = new Float32Array(4 * n);
        for (let k = 0; k < n; k++) yxyx.set([b[4 * k + 1], b[4 * k], b[4 * k + 3], b[4 * k + 2]], 4 * k);
        const [boxes, scores] = [tf.tensor2d(yxyx, [n, 4]), tf.tensor1d(Float32Array.from(flat(i.scores)))];
        try {
          const keep = await tf.image.nonMaxSuppressionAsync(boxes, scores, p.maxOutput ?? n, p.iouThreshold, p.scoreThreshold ?? Number.NEGATIVE_INFINITY);
          const d = new Float64Array((await keep.data()) as Int32Array);
          keep.dispose();
          return { keep: fromData(d, [d.length]) };
        } finally {
          tf.dispose([boxes, scores]);
        }
      },
    }),
  };
  // tfjs has one global backend: every call first selects this target's own (another tfjs target
  // loaded in the same process would otherwise run our ops on its backend)
  for (const a of Object.values(ops)) {
    const run = a.run.bind(a);
    a.run = async (i, p) => {
      if (tf.getBackend() !== backend) await tf.setBackend(backend);
      return run(i, p);
    };
  }
  const dispose = async () => {
    for (const { t } of filters.values()) t.dispose();
    filters.clear();
  };
  return { name: `tfjs-${backend}`, description: `TensorFlow.js 4.22 with ${pkg}`, precision: 'float32', ops, dispose };
}

export { TARGETS } from './target-names.js';

export async function loadTarget(nameOrFile: string): Promise<TargetAdapter> {
  if (nameOrFile === 'accelerated' || nameOrFile === 'simd') return ownTarget(nameOrFile);
  if (nameOrFile === 'tfjs-cpu' || nameOrFile === 'tfjs-wasm') return tfjsTarget(nameOrFile === 'tfjs-cpu' ? 'cpu' : 'wasm');
  if (nameOrFile === 'convnetjs') return (await import('./convnetjs.js')).convnetjsTarget();
  if (nameOrFile === 'onnxruntime') return (await import('./onnxruntime.js')).onnxruntimeTarget();
  if (nameOrFile === 'pytorch' || nameOrFile === 'pytorch-float64') return (await import('./command.js')).pytorchTarget(nameOrFile === 'pytorch' ? 'float32' : 'float64');
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const mod = (await import(pathToFileURL(resolve(nameOrFile)).href)) as { default?: TargetAdapter };
  const a = mod.default;
  if (!a || typeof a !== 'object' || typeof a.ops !== 'object') throw new Error(`${nameOrFile}: an adapter module must default-export { name, precision, ops: { op: { run, unsupported? } } }`);
  for (const [op, entry] of Object.entries(a.ops)) {
    if (!hasOp(op)) throw new Error(`${nameOrFile}: ops.${op} is not an op of the catalogue (cnn-oracle ops lists them)`);
    if (!entry || typeof (entry as { run?: unknown }).run !== 'function') throw new Error(`${nameOrFile}: ops.${op} must be an object with a run(inputs, params) function`);
  }
  if (a.precision !== undefined && a.precision !== 'float32' && a.precision !== 'float64') throw new Error(`${nameOrFile}: precision must be "float32" or "float64", got ${JSON.stringify(a.precision)}`);
  return { ...a, name: typeof a.name === 'string' ? a.name : nameOrFile, description: a.description ?? nameOrFile, precision: a.precision ?? 'float32' };
}

export type { Inputs, Outputs };
