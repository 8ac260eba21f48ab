/**
 * The onnxruntime-node conformance target: every op runs as a single-node ONNX model built in
 * memory (onnx-proto), with the catalogue's PyTorch conventions translated to ONNX attributes
 * (explicit pads [top, left, bottom, right], strides defaulting to the kernel for pools, whole-
 * tensor max-pool indices turned back into per-plane ones, the RoIAlign coordinate mode).
 */
// every family registered first, in the catalogue's order (importing single families below must not reorder them)
import '../ops/index.js';
import type { Inputs, Outputs } from '../registry.js';
import { fromData, type Arr } from '../tensor.js';
import { flat } from '../reference/common.js';
import { perDim, resolvePadding, type PaddingForm } from '../params.js';
import { conv2d } from '../ops/conv.js';
import { convTranspose2d } from '../ops/transposed.js';
import { avgPool2d, maxPool2d } from '../ops/pooling.js';
import { upsample2d } from '../ops/resample.js';
import { adapterFor, type OpAdapter, type TargetAdapter } from './adapter.js';
import { leakyRelu, softmax } from '../ops/activation.js';
import { batchNorm, localResponseNorm } from '../ops/normalization.js';
import { nms, roiAlign, roiPool } from '../ops/detection.js';

type Ort = typeof import('onnxruntime-node');
type Onnx = (typeof import('onnx-proto'))['onnx'];
type Feed = { name: string; data: Float32Array | BigInt64Array; dims: number[] };
type Attr = { name: string; i?: number; ints?: number[]; f?: number; s?: string };

export async function onnxruntimeTarget(): Promise<TargetAdapter> {
  let ort: Ort;
  let onnx: Onnx;
  try {
    ort = await import('onnxruntime-node');
    ort.env.logLevel = 'fatal';
    onnx = ((await import('onnx-proto')) as unknown as { default: { onnx: Onnx } }).default.onnx;
  } catch (e) {
    throw new Error(`the onnxruntime target needs onnxruntime-node and onnx-proto (npm install them; offline, set onnxruntime-node-install=skip): ${(e as Error).message}`);
  }
  const T = onnx.TensorProto.DataType;
  const A = onnx.AttributeProto.AttributeType;
  const sessions = new Map<string, Promise<import('onnxruntime-node').InferenceSession>>();

  /** Runs one node; inputs in order, outputs by name. */
  async function node(opType: string, feeds: Feed[], attrs: Attr[], outputs: string[], opset = 17): Promise<Record<string, { data: ArrayLike<number | bigint>; dims: readonly number[] }>> {
    const key = JSON.stringify([opType, feeds.map((f) => [f.name, f.dims, f.data instanceof BigInt64Array]), attrs, outputs, opset]);
    let session = sessions.get(key);
    if (!session) {
      const attribute = attrs.map((a) =>
        a.ints !== undefined
          ? { name: a.name, type: A.INTS, ints: a.ints }
          : a.f !== undefined
            ? { name: a.name, type: A.FLOAT, f: a.f }
            : a.s !== undefined
              ? { name: a.name, type: A.STRING, s: new TextEncoder().encode(a.s) }
              : { name: a.name, type: A.INT, i: a.i },
      );
      const model = onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: '', version: opset }],
        graph: {
          name: opType,
          node: [{ opType, input: feeds.map((f) => f.name), output: outputs, attribute }],
          input: feeds.map((f) => ({ name: f.name, type: { tensorType: { elemType: f.data instanceof BigInt64Array ? T.INT64 : T.FLOAT, shape: { dim: f.dims.map((d) => ({ dimValue: d })) } } } })),
          output: outputs.map((name) => ({ name, type: { tensorType: { elemType: name === 'indices' || name === 'selected' ? T.INT64 : T.FLOAT } } })),
        },
      });
      session = ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { logSeverityLevel: 4 });
      sessions.set(key, session);
    }
    const feedMap: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const f of feeds) feedMap[f.name] = new ort.Tensor(f.data instanceof BigInt64Array ? 'int64' : 'float32', f.data, f.dims);
    const r = await (await session).run(feedMap);
    return Object.fromEntries(outputs.map((o) => [o, { data: r[o].data as ArrayLike<number | bigint>, dims: r[o].dims }]));
  }

  const feed = (name: string, a: Arr): Feed => ({ name, data: Float32Array.from(flat(a)), dims: a.shape.slice() });
  // a typed-array copy (Float32Array → Float64Array in one native step; Float64Array.from(…, Number) calls a function per element)
  const arr = (o: { data: ArrayLike<number | bigint>; dims: readonly number[] }) => fromData(new Float64Array(o.data as Float32Array), o.dims.slice());
  const onnxPads = (padding: PaddingForm, k: number[], d: number[], stride: number[] | null, x?: Arr) => {
    const pads = resolvePadding(padding, 2, k, d, stride, '/params/padding', x?.shape.slice(2));
    return [pads.begin[0], pads.begin[1], pads.end[0], pads.end[1]];
  };
  const unaryRun = async (opType: string, i: Inputs, attrs: Attr[]): Promise<Outputs> => ({ y: arr((await node(opType, [feed('x', i.x)], attrs, ['y'])).y) });
  const unary = (opType: string): OpAdapter => ({ run: (i) => unaryRun(opType, i, []) });

  const ops: Record<string, OpAdapter> = {
    conv2d: adapterFor(conv2d, {
      unsupported: (i, p) => (p.flip ? 'flip' : undefined),
      async run(i, p) {
        const k = i.weight.shape.slice(2);
        const d = p.dilation.slice();
        const s = p.stride.slice();
        const feeds = [feed('x', i.x), feed('w', i.weight), ...(i.bias ? [feed('b', i.bias)] : [])];
        const r = await node('Conv', feeds, [{ name: 'pads', ints: onnxPads(p.padding, k, d, s, i.x) }, { name: 'strides', ints: s }, { name: 'dilations', ints: d }, { name: 'group', i: p.groups }], ['y']);
        return { y: arr(r.y) };
      },
    }),
    convTranspose2d: adapterFor(convTranspose2d, {
      async run(i, p) {
        const k = i.weight.shape.slice(2);
        const d = p.dilation.slice();
        const feeds = [feed('x', i.x), feed('w', i.weight), ...(i.bias ? [feed('b', i.bias)] : [])];
        const attrs = [{ name: 'pads', ints: onnxPads(p.padding, k, d, null) }, { name: 'strides', ints: p.stride.slice() }, { name: 'dilations', ints: d }, { name: 'group', i: p.groups }, { name: 'output_padding', ints: p.outputPadding.slice() }];
        return { y: arr((await node('ConvTranspose', feeds, attrs, ['y'])).y) };
      },
    }),
    maxPool2d: adapterFor(maxPool2d, {
      async run(i, p) {
        const k = p.kernel.slice();
        const d = p.dilation.slice();
        const attrs = [{ name: 'kernel_shape', ints: k }, { name: 'strides', ints: p.stride.slice() }, { name: 'pads', ints: onnxPads(p.padding, k, d, p.stride.slice(), i.x) }, { name: 'dilations', ints: d }, { name: 'ceil_mode', i: p.ceilMode ? 1 : 0 }];
        const r = await node('MaxPool', [feed('x', i.x)], attrs, p.returnIndices ? ['y', 'indices'] : ['y']);
        const out: Outputs = { y: arr(r.y) };
        if (p.returnIndices) {
          // ONNX indexes the whole tensor; the catalogue indexes within each (n, c) plane
          const [H, W] = i.x.shape.slice(2);
          const plane = r.y.dims[2] * r.y.dims[3];
          out.indices = fromData(Float64Array.from(r.indices.data as ArrayLike<bigint>, (v, t) => Number(v) - Math.floor(t / plane) * H * W), r.y.dims.slice());
        }
        return out;
      },
    }),
    avgPool2d: adapterFor(avgPool2d, {
      unsupported: (i, p) => (p.divisorOverride !== undefined ? 'divisorOverride' : undefined),
      async run(i, p) {
        const k = p.kernel.slice();
        const attrs = [{ name: 'kernel_shape', ints: k }, { name: 'strides', ints: p.stride.slice() }, { name: 'pads', ints: onnxPads(p.padding, k, [1, 1], p.stride.slice(), i.x) }, { name: 'ceil_mode', i: p.ceilMode ? 1 : 0 }, { name: 'count_include_pad', i: p.countIncludePad ? 1 : 0 }];
        return { y: arr((await node('AveragePool', [feed('x', i.x)], attrs, ['y'], 19)).y) };
      },
    }),
    upsample2d: adapterFor(upsample2d, {
      async run(i, p) {
        const [N, C] = i.x.shape;
        const empty = { data: new Float32Array(0), dims: [0] };
        // PyTorch's nearest is ONNX's asymmetric/floor; bilinear is pytorch_half_pixel, or align_corners
        const attrs: Attr[] =
          p.mode === 'nearest'
            ? [{ name: 'mode', s: 'nearest' }, { name: 'coordinate_transformation_mode', s: 'asymmetric' }, { name: 'nearest_mode', s: 'floor' }]
            : [{ name: 'mode', s: 'linear' }, { name: 'coordinate_transformation_mode', s: p.alignCorners ? 'align_corners' : 'pytorch_half_pixel' }];
        const feeds: Feed[] = [feed('x', i.x), { name: 'roi', ...empty }];
        if (p.size !== undefined) {
          const [h, w] = perDim(p.size, 2);
          feeds.push({ name: 'scales', ...empty }, { name: 'sizes', data: BigInt64Array.from([N, C, h, w].map(BigInt)), dims: [4] });
        } else {
          const [fh, fw] = perDim(p.scaleFactor, 2);
          feeds.push({ name: 'scales', data: Float32Array.from([1, 1, fh, fw]), dims: [4] });
        }
        return { y: arr((await node('Resize', feeds, attrs, ['y'], 11)).y) };
      },
    }),
    globalAvgPool2d: unary('GlobalAveragePool'),
    globalMaxPool2d: unary('GlobalMaxPool'),
    relu: unary('Relu'),
    sigmoid: unary('Sigmoid'),
    tanh: unary('Tanh'),
    hardswish: unary('HardSwish'), // opset 14
    leakyRelu: adapterFor(leakyRelu, { run: (i, o) => unaryRun('LeakyRelu', i, [{ name: 'alpha', f: o.negativeSlope }]) }),
    softmax: adapterFor(softmax, { run: (i, o) => unaryRun('Softmax', i, [{ name: 'axis', i: o.dim }]) }),
    linear: {
      unsupported: (i) => (i.x.shape.length === 2 ? undefined : 'x of rank other than 2'),
      async run(i) {
        const feeds = [feed('a', i.x), feed('b', i.weight), ...(i.bias ? [feed('c', i.bias)] : [])];
        return { y: arr((await node('Gemm', feeds, [{ name: 'transB', i: 1 }], ['y'])).y) };
      },
    },
    batchNorm: adapterFor(batchNorm, {
      unsupported: (i, p) => (p.training ? 'training mode (inference sessions only)' : undefined),
      async run(i, p) {
        const C = i.x.shape[1];
        const ones = fromData(new Float64Array(C).fill(1), [C]);
        const zeros = fromData(new Float64Array(C), [C]);
        const feeds = [feed('x', i.x), feed('scale', i.weight ?? ones), feed('bias', i.bias ?? zeros), feed('mean', i.runningMean), feed('var', i.runningVar)];
        return { y: arr((await node('BatchNormalization', feeds, [{ name: 'epsilon', f: p.eps }], ['y'], 15)).y) };
      },
    }),
    localResponseNorm: adapterFor(localResponseNorm, {
      unsupported: (i, p) => (p.size % 2 === 0 ? 'an even size (ONNX LRN needs an odd one)' : undefined),
      run: (i, p) => unaryRun('LRN', i, [{ name: 'size', i: p.size }, { name: 'alpha', f: p.alpha }, { name: 'beta', f: p.beta }, { name: 'bias', f: p.k }]),
    }),
    roiAlign: adapterFor(roiAlign, {
      async run(i, p) {
        const { ph, pw } = p;
        const b = flat(i.boxes);
        const K = i.boxes.shape[0];
        const rois = new Float32Array(4 * K);
        const idx = new BigInt64Array(K);
        for (let k = 0; k < K; k++) {
          rois.set([b[5 * k + 1], b[5 * k + 2], b[5 * k + 3], b[5 * k + 4]], 4 * k);
          idx[k] = BigInt(Math.trunc(b[5 * k]));
        }
        const attrs = [
          { name: 'output_height', i: ph },
          { name: 'output_width', i: pw },
          { name: 'sampling_ratio', i: Math.max(p.samplingRatio, 0) },
          { name: 'spatial_scale', f: p.spatialScale },
          { name: 'coordinate_transformation_mode', s: p.aligned ? 'half_pixel' : 'output_half_pixel' },
        ];
        const r = await node('RoiAlign', [feed('x', i.x), { name: 'rois', data: rois, dims: [K, 4] }, { name: 'batch_indices', data: idx, dims: [K] }], attrs, ['y'], 16);
        return { y: arr(r.y) };
      },
    }),
    roiPool: adapterFor(roiPool, {
      async run(i, p) {
        const r = await node('MaxRoiPool', [feed('x', i.x), feed('rois', i.boxes)], [{ name: 'pooled_shape', ints: [p.ph, p.pw] }, { name: 'spatial_scale', f: p.spatialScale }], ['y'], 16);
        return { y: arr(r.y) };
      },
    }),
    nms: adapterFor(nms, {
      unsupported: (i, p) => (p.boxFormat !== 'xyxy' && p.boxFormat !== 'cxcywh' ? 'box formats other than xyxy and cxcywh' : p.pixelInclusive ? 'pixelInclusive' : undefined),
      async run(i, p) {
        const n = i.boxes.shape[0];
        const b = flat(i.boxes);
        const boxes = new Float32Array(4 * n);
        // center_point_box 0 takes [y1, x1, y2, x2]; 1 takes [xc, yc, w, h]
        for (let k = 0; k < n; k++) boxes.set(p.boxFormat === 'cxcywh' ? [b[4 * k], b[4 * k + 1], b[4 * k + 2], b[4 * k + 3]] : [b[4 * k + 1], b[4 * k], b[4 * k + 3], b[4 * k + 2]], 4 * k);
        const feeds: Feed[] = [
          { name: 'boxes', data: boxes, dims: [1, n, 4] },
          { name: 'scores', data: Float32Array.from(flat(i.scores)), dims: [1, 1, n] },
          { name: 'max_output_boxes_per_class', data: BigInt64Array.from([BigInt(p.maxOutput ?? n)]), dims: [1] },
          { name: 'iou_threshold', data: Float32Array.from([p.iouThreshold]), dims: [1] },
          ...(p.scoreThreshold !== undefined ? [{ name: 'score_threshold', data: Float32Array.from([p.scoreThreshold]), dims: [1] }] : []),
        ];
        const r = await node('NonMaxSuppression', feeds, [{ name: 'center_point_box', i: p.boxFormat === 'cxcywh' ? 1 : 0 }], ['selected'], 11);
        const sel = r.selected.data as ArrayLike<bigint>;
        const keep = Array.from({ length: sel.length / 3 }, (_, k) => Number(sel[3 * k + 2]));
        return { keep: fromData(keep, [keep.length]) };
      },
    }),
  };
  return {
    name: 'onnxruntime',
    description: 'onnxruntime-node 1.30 (CPU execution provider), single-node ONNX models',
    precision: 'float32',
    ops,
    dispose: async () => {
      for (const s of sessions.values()) await s.then((x) => x.release()).catch(() => {}); // failed sessions were reported already
      sessions.clear();
    },
  };
}

export type { Inputs };
