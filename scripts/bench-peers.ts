/**
 * simd against its peers, timed directly (part of npm run bench): tfjs-wasm, tfjs-cpu and
 * onnxruntime-node are each called as a user would, inputs already in their native layout (NHWC
 * for tfjs, NCHW for onnxruntime) and weights prepared outside the timed region (tfjs tensors made
 * once; onnxruntime weights as initializers of a session created once). A timed call is the op and
 * reading its result back into a typed array (tfjs: dataSync, then the result tensor disposed).
 * simd is called through its registry function (float64 ndarrays in and out: its own interface).
 * Every shape runs the libraries in turn, one call each per round (interleaved), after warm-up;
 * the figures are medians over the rounds, the ratios medians of per-round ratios with their
 * 25–75 % range.
 *
 * `runPeers(threads)`: with threads = 1 this is run in a child process with
 * CNN_ORACLE_SIMD_THREADS=1 (single-threaded simd against tfjs-wasm, itself single-threaded).
 */
import { getOp, kernelOf, resolveParams } from '../src/registry.js';
import '../src/ops/index.js';
import { fromData, type Arr } from '../src/tensor.js';
import { Rng } from '../src/rng.js';

type TF = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
interface Shape {
  name: string;
  flops: number;
  op: string;
  inputs: Record<string, Arr>;
  params: Record<string, unknown>;
  /** tfjs: build the prepared tensors once, return the timed call */
  tf: (tf: TF, nhwc: (a: Arr) => Tensor, hwio: (w: Arr) => Tensor) => () => Tensor;
  /** onnxruntime: the node, with `x` the only run-time input and the rest initializers */
  ort: { opType: string; attrs: Record<string, number | number[]>; inits: [string, Arr][] };
  conv?: boolean;
}

const rng = new Rng('bench-peers-direct');
const rnd = (shape: number[]) => fromData(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.float32()), shape);
const pos = (shape: number[]) => fromData(Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 0.5 + Math.abs(rng.float32())), shape);

function conv(name: string, N: number, C: number, H: number, O: number, k: number, s: number, pad: number, groups = 1): Shape {
  const x = rnd([N, C, H, H]);
  const w = rnd([O, C / groups, k, k]);
  const Ho = Math.floor((H + 2 * pad - k) / s) + 1;
  return {
    name,
    flops: 2 * N * O * Ho * Ho * (C / groups) * k * k,
    op: 'conv2d',
    inputs: { x, weight: w },
    params: { stride: s, padding: pad, groups },
    conv: true,
    tf: (tf, nhwc, hwio) => {
      const xt = nhwc(x) as import('@tensorflow/tfjs-core').Tensor4D;
      const padding = [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
      if (groups === C && groups > 1) {
        // depthwise filter [kh, kw, C, 1]
        const fc = tf.transpose(tf.tensor4d(Float32Array.from(w.data as Float64Array), [C, 1, k, k]), [2, 3, 0, 1]) as import('@tensorflow/tfjs-core').Tensor4D;
        return () => tf.depthwiseConv2d(xt, fc, s, padding);
      }
      const f = hwio(w) as import('@tensorflow/tfjs-core').Tensor4D;
      return () => tf.conv2d(xt, f, s, padding);
    },
    ort: { opType: 'Conv', attrs: { kernel_shape: [k, k], strides: [s, s], pads: [pad, pad, pad, pad], group: groups }, inits: [['w', w]] },
  };
}

export function shapes(): Shape[] {
  const ct = { x: rnd([1, 128, 28, 28]), w: rnd([128, 64, 4, 4]) };
  const lin = { x: rnd([64, 4096]), w: rnd([1000, 4096]) };
  const mp = rnd([1, 64, 112, 112]);
  const bn = { x: rnd([1, 256, 56, 56]), mean: rnd([256]), var: pos([256]), g: rnd([256]), b: rnd([256]) };
  const sm = rnd([256, 1000]);
  return [
    conv('conv 1×64×56×56 3×3 → 64, pad 1', 1, 64, 56, 64, 3, 1, 1),
    conv('conv 1×256×56×56 1×1 → 64', 1, 256, 56, 64, 1, 1, 0),
    conv('conv 1×128×28×28 3×3 stride 2 → 128', 1, 128, 28, 128, 3, 2, 1),
    conv('conv 1×256×14×14 3×3 → 256', 1, 256, 14, 256, 3, 1, 1),
    conv('conv 1×512×7×7 3×3 → 512', 1, 512, 7, 512, 3, 1, 1),
    conv('depthwise 1×32×112×112 3×3, groups 32', 1, 32, 112, 32, 3, 1, 1, 32),
    conv('conv 8×3×224×224 7×7 stride 2 → 64', 8, 3, 224, 64, 7, 2, 3),
    {
      name: 'convTranspose 1×128×28×28 4×4 stride 2 → 64',
      flops: 2 * 128 * 28 * 28 * 64 * 16,
      op: 'convTranspose2d',
      inputs: { x: ct.x, weight: ct.w },
      params: { stride: 2, padding: 1 },
      conv: true,
      tf: (tf, nhwc) => {
        const xt = nhwc(ct.x) as import('@tensorflow/tfjs-core').Tensor4D;
        // tfjs filter [kh, kw, outC, inC]; PyTorch weight [inC, outC, kh, kw]
        const f = tf.transpose(tf.tensor4d(Float32Array.from(ct.w.data as Float64Array), [128, 64, 4, 4]), [2, 3, 1, 0]) as import('@tensorflow/tfjs-core').Tensor4D;
        return () => tf.conv2dTranspose(xt, f, [1, 56, 56, 64], 2, 'same');
      },
      ort: { opType: 'ConvTranspose', attrs: { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] }, inits: [['w', ct.w]] },
    },
    {
      name: 'linear 64×4096 → 1000',
      flops: 2 * 64 * 4096 * 1000,
      op: 'linear',
      inputs: { x: lin.x, weight: lin.w },
      params: {},
      conv: true,
      tf: (tf) => {
        const xt = tf.tensor2d(Float32Array.from(lin.x.data as Float64Array), [64, 4096]);
        const wt = tf.tensor2d(Float32Array.from(lin.w.data as Float64Array), [1000, 4096]);
        return () => tf.matMul(xt, wt, false, true);
      },
      ort: { opType: 'Gemm', attrs: { transB: 1 }, inits: [['w', lin.w]] },
    },
    {
      name: 'maxPool 1×64×112×112 3×3 stride 2',
      flops: 64 * 55 * 55 * 9,
      op: 'maxPool2d',
      inputs: { x: mp },
      params: { kernelSize: 3, stride: 2 },
      tf: (tf, nhwc) => {
        const xt = nhwc(mp) as import('@tensorflow/tfjs-core').Tensor4D;
        return () => tf.maxPool(xt, 3, 2, 'valid');
      },
      ort: { opType: 'MaxPool', attrs: { kernel_shape: [3, 3], strides: [2, 2] }, inits: [] },
    },
    {
      name: 'batchNorm inference 1×256×56×56',
      flops: 256 * 56 * 56 * 2,
      op: 'batchNorm',
      inputs: { x: bn.x, runningMean: bn.mean, runningVar: bn.var, weight: bn.g, bias: bn.b },
      params: { training: false },
      tf: (tf, nhwc) => {
        const xt = nhwc(bn.x) as import('@tensorflow/tfjs-core').Tensor4D;
        const v = (a: Arr) => tf.tensor1d(Float32Array.from(a.data as Float64Array));
        const [m, va, g, b] = [v(bn.mean), v(bn.var), v(bn.g), v(bn.b)];
        return () => tf.batchNorm(xt, m, va, b, g, 1e-5);
      },
      ort: { opType: 'BatchNormalization', attrs: { epsilon: 1e-5 }, inits: [['scale', bn.g], ['B', bn.b], ['mean', bn.mean], ['var', bn.var]] },
    },
    {
      name: 'softmax 256×1000',
      flops: 256 * 1000 * 4,
      op: 'softmax',
      inputs: { x: sm },
      params: { dim: 1 },
      tf: (tf) => {
        const xt = tf.tensor2d(Float32Array.from(sm.data as Float64Array), [256, 1000]);
        return () => tf.softmax(xt);
      },
      ort: { opType: 'Softmax', attrs: { axis: 1 }, inits: [] },
    },
  ];
}

type Timed = () => Promise<unknown> | unknown;
const quiet = async <T>(f: () => Promise<T>): Promise<T> => {
  const [log, warn] = [console.log, console.warn];
  console.log = console.warn = () => {};
  try {
    return await f();
  } finally {
    [console.log, console.warn] = [log, warn];
  }
};

async function tfjs(backend: 'wasm' | 'cpu'): Promise<TF> {
  // each backend in its own module instance is not possible (one tfjs-core); the caller selects it
  return quiet(async () => {
    const tf = await import('@tensorflow/tfjs-core');
    if (backend === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const { createRequire } = await import('node:module');
      const { dirname, join, sep } = await import('node:path');
      wasm.setWasmPaths(join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + sep);
    } else await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend(backend);
    await tf.ready();
    return tf;
  });
}

async function ortRunner(s: Shape): Promise<Timed> {
  const ort = await import('onnxruntime-node');
  ort.env.logLevel = 'fatal';
  const onnx = ((await import('onnx-proto')) as unknown as { default: { onnx: (typeof import('onnx-proto'))['onnx'] } }).default.onnx;
  const T = onnx.TensorProto.DataType;
  const A = onnx.AttributeProto.AttributeType;
  const x = s.inputs.x;
  const attribute = Object.entries(s.ort.attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: A.INTS, ints: v } : Number.isInteger(v) && name !== 'epsilon' ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v },
  );
  const initializer = s.ort.inits.map(([name, a]) => ({ name, dataType: T.FLOAT, dims: a.shape, rawData: new Uint8Array(Float32Array.from(a.data as Float64Array).buffer) }));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: s.ort.opType,
      node: [{ opType: s.ort.opType, input: ['x', ...s.ort.inits.map(([n]) => n)], output: ['y'], attribute }],
      initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: T.FLOAT, shape: { dim: x.shape.map((d) => ({ dimValue: d })) } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: T.FLOAT } } }],
    },
  });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { logSeverityLevel: 4 });
  const feeds = { x: new ort.Tensor('float32', Float32Array.from(x.data as Float64Array), x.shape) };
  return async () => {
    const r = await session.run(feeds);
    const d = r.y.data;
    r.y.dispose?.();
    return d;
  };
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quantile = (xs: number[], q: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

/** Prints the table; `threads` says how many simd threads this process runs (CNN_ORACLE_SIMD_THREADS). */
export async function runPeers(opts: { single: boolean; rounds: number; gl: boolean }): Promise<void> {
  const tf = await tfjs('wasm');
  const nhwc = (a: Arr) => tf.transpose(tf.tensor4d(Float32Array.from(a.data as Float64Array), a.shape as [number, number, number, number]), [0, 2, 3, 1]);
  const hwio = (w: Arr) => tf.transpose(tf.tensor4d(Float32Array.from(w.data as Float64Array), w.shape as [number, number, number, number]), [2, 3, 1, 0]);
  const libs = opts.single ? ['simd', 'tfjs-wasm'] : ['simd', 'tfjs-wasm', 'tfjs-cpu', 'onnxruntime', ...(opts.gl ? ['accelerated'] : [])];
  const head = opts.single ? ['simd GFLOP/s', 'tfjs-wasm GFLOP/s', 'simd / tfjs-wasm (25–75 %)'] : ['simd GFLOP/s', 'simd / tfjs-wasm (25–75 %)', 'simd / tfjs-cpu', 'simd / onnxruntime (25–75 %)', ...(opts.gl ? ['gpu.js GL GFLOP/s', 'GL / simd'] : [])];
  console.log('  ' + 'shape'.padEnd(46) + head.map((h) => h.padStart(h.length > 20 ? 30 : 19)).join(''));
  for (const s of shapes()) {
    const def = getOp(s.op);
    const p = resolveParams(def, s.params);
    const runs: Record<string, Timed> = {};
    runs.simd = () => kernelOf(def, 'simd')!(s.inputs, p);
    if (opts.gl) runs.accelerated = () => kernelOf(def, 'accelerated')!(s.inputs, p);
    // tfjs: both backends share tfjs-core's one global backend, so each timed call selects its own
    const tfCall = s.tf(tf, nhwc, hwio);
    for (const b of ['wasm', 'cpu'] as const) {
      if (!libs.includes(`tfjs-${b}`)) continue;
      if (b === 'cpu') await quiet(async () => { await import('@tensorflow/tfjs-backend-cpu'); });
      runs[`tfjs-${b}`] = () => {
        if (tf.getBackend() !== b) tf.setBackend(b); // synchronous once initialised (both are, after warm-up)
        const y = tfCall();
        const d = y.dataSync();
        y.dispose();
        return d;
      };
    }
    if (libs.includes('onnxruntime')) runs.onnxruntime = await ortRunner(s);
    const names = libs.filter((l) => runs[l]);
    await quiet(async () => { for (const n of names) for (let w = 0; w < 2; w++) await runs[n](); }); // tfjs greets Node users on first use
    const held = tf.memory().numTensors;
    const ms: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    for (let r = 0; r < opts.rounds; r++) {
      for (const n of names) {
        const t0 = performance.now();
        await runs[n]();
        ms[n].push(performance.now() - t0);
      }
    }
    if (tf.memory().numTensors !== held) throw new Error(`${s.name}: tfjs leaked ${tf.memory().numTensors - held} tensors in the timed calls`);
    const gf = (n: string) => s.flops / median(ms[n]) / 1e6;
    const ratio = (n: string) => {
      const rs = ms.simd.map((t, i) => ms[n][i] / t); // per round: peer time / simd time = simd speed-up
      return `${median(rs).toFixed(2)} (${quantile(rs, 0.25).toFixed(2)}–${quantile(rs, 0.75).toFixed(2)})`;
    };
    const cells = opts.single
      ? [gf('simd').toFixed(2), gf('tfjs-wasm').toFixed(2), ratio('tfjs-wasm')]
      : [gf('simd').toFixed(2), ratio('tfjs-wasm'), median(ms['tfjs-cpu'].map((t, i) => t / ms.simd[i])).toFixed(2), ratio('onnxruntime'), ...(opts.gl ? [gf('accelerated').toFixed(2), (median(ms.simd) / median(ms.accelerated)).toFixed(2)] : [])];
    console.log('  ' + s.name.padEnd(46) + cells.map((c) => c.padStart(c.length > 12 ? 30 : 19)).join(''));
    if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
  }
}

if (process.env.CNN_ORACLE_BENCH_PEERS_CHILD) {
  await runPeers({ single: true, rounds: Number(process.env.CNN_ORACLE_BENCH_ROUNDS ?? 9), gl: false });
}
