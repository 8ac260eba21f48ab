/**
 * The catalogue of known wrong implementations. When a submission's wrong outputs match one of
 * these (within the tolerance), the feedback names the mistake. Each entry carries a trigger case
 * on which it differs from the reference; the default assignment includes the triggers, and the
 * tests check that every entry is diagnosed as itself.
 */
// every family registered first, in the catalogue's order (importing single families below must not reorder them)
import '../ops/index.js';
import { getOp, resolveParams, type Inputs, type OpDef, type Outputs, type Params } from '../registry.js';
import { fromData } from '../tensor.js';
import { flat, resolveDim, splitAt } from '../reference/common.js';
import { nmsRef } from '../reference/detection.js';
import { batchNorm } from '../ops/normalization.js';
import { nms, roiPool } from '../ops/detection.js';
import { softmax } from '../ops/activation.js';
import { conv2d, convGeometryOf } from '../ops/conv.js';
import { maxPool2d, poolGeometryOf } from '../ops/pooling.js';
import { conv2dRef } from '../reference/conv.js';

export interface Mistake {
  id: string;
  op: string;
  /** Short name, shown in feedback: "Looks like: <title>". */
  title: string;
  /** What is wrong and what is right, for the student. */
  explanation: string;
  /** The wrong implementation, on validated inputs and resolved params. */
  apply(inputs: Inputs, params: Params): Outputs;
  /** Other ways students write the same mistake (e.g. all the padding on one side instead of half of it). */
  alsoWrittenAs?(inputs: Inputs, params: Params): Outputs[];
  /**
   * The outputs that carry the mistake's numerical signature (default: the op's first output).
   * Only these must match: a student who makes the mistake may get the other outputs right, or
   * wrong in a way consistent with it (an unbiased batchVar along with the unbiased normalisation).
   */
  signature?: string[];
  /** A case that exposes the mistake. */
  trigger: { inputs: Record<string, { shape: number[]; data: number[]; dtype?: 'int64' }>; params: Params };
}

const ref = (op: string, inputs: Inputs, params: Params): Outputs => getOp(op).reference(inputs, resolveParams(getOp(op), params));
/** A mistake's wrong implementation typed by its op: the params validated, then the op's options (`op.opts`) and the resolved params. */
const withOptions =
  <O>(op: OpDef<O>, apply: (inputs: Inputs, o: O, params: Params) => Outputs) =>
  (inputs: Inputs, params: Params): Outputs => {
    const p = resolveParams(op, params);
    return apply(inputs, op.opts(p), p);
  };
const t = (shape: number[], data: number[]) => ({ shape, data });
const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => i + start);

/** batchNorm with the variance rescaled (unbiased, training only) or eps misplaced (also in inference, on the running statistics). */
function wrongBatchNorm(inputs: Inputs, params: Params, how: 'unbiased' | 'eps-outside'): Outputs {
  const rp = resolveParams(batchNorm, params);
  const p = batchNorm.opts(rp);
  const r = ref('batchNorm', inputs, rp);
  if (!p.training && how === 'unbiased') return r;
  const [N, C] = inputs.x.shape;
  const inner = inputs.x.shape.slice(2).reduce((a, b) => a * b, 1);
  const n = N * inner;
  const mean = p.training ? flat(r.batchMean!) : flat(inputs.runningMean);
  const variance = p.training ? flat(r.batchVar!) : flat(inputs.runningVar);
  const g = inputs.weight ? flat(inputs.weight) : undefined;
  const b = inputs.bias ? flat(inputs.bias) : undefined;
  const x = flat(inputs.x);
  const eps = p.eps;
  const y = x.map((v, i) => {
    const c = Math.floor(i / inner) % C;
    const denom = how === 'unbiased' ? Math.sqrt((variance[c] * n) / (n - 1) + eps) : Math.sqrt(variance[c]) + eps;
    return ((v - mean[c]) / denom) * (g ? g[c] : 1) + (b ? b[c] : 0);
  });
  return { ...r, y: fromData(y, inputs.x.shape) };
}

/** conv2d with its resolved padding changed. */
function withPads(i: Inputs, p: Params, change: (pads: { begin: number[]; end: number[] }) => { begin: number[]; end: number[] }): Outputs {
  const g = convGeometryOf(conv2d.opts(resolveParams(conv2d, p)), i.weight.shape.slice(2), i.x.shape.slice(2));
  return { y: conv2dRef(i.x, i.weight, i.bias, { ...g, pads: change(g.pads) }) };
}

/** In catalogue order; where two describe one answer, the more specific comes first ("same" with its extra at the start is also padding on one side). */
export const MISTAKES: Mistake[] = [
  {
    id: 'conv2d/flipped-kernel',
    op: 'conv2d',
    title: 'the kernel is flipped',
    explanation: 'You computed a true (flipped-kernel) convolution. What CNN libraries call convolution is cross-correlation: y[i,j] = Σ x[i+p, j+q]·w[p,q], without rotating w.',
    apply: (i, p) => ref('conv2d', i, { ...p, flip: !p.flip }),
    trigger: { inputs: { x: t([1, 1, 3, 3], range(9, 1)), weight: t([1, 1, 2, 2], [1, 2, 3, 4]) }, params: {} },
  },
  {
    id: 'conv2d/same-extra-at-start',
    op: 'conv2d',
    title: '"same" padding puts the odd extra row/column at the start',
    explanation: 'With an even kernel, "same" needs an odd total padding d·(k−1); PyTorch and TensorFlow put the extra one at the end (bottom/right), not at the start.',
    // only "same" (and SAME_UPPER, its any-stride form) has an extra to misplace; on explicit padding this answer is another mistake
    apply: (i, p) => withPads(i, p, (b) => (p.padding === 'same' || p.padding === 'SAME_UPPER' ? { begin: b.end, end: b.begin } : b)),
    trigger: { inputs: { x: t([1, 1, 3, 3], range(9, 1)), weight: t([1, 1, 2, 2], [1, 2, 3, 4]) }, params: { padding: 'same' } },
  },
  {
    id: 'conv2d/one-sided-padding',
    op: 'conv2d',
    title: 'the padding is applied on one side only',
    explanation: 'Padding p adds p rows above AND below and p columns left AND right; you padded only the top and left.',
    apply: (i, p) => withPads(i, p, (b) => ({ begin: b.begin, end: [0, 0] })),
    alsoWrittenAs: (i, p) => [
      withPads(i, p, (b) => ({ begin: [0, 0], end: b.end })), // only at the bottom and the right
      withPads(i, p, (b) => ({ begin: [b.begin[0] + b.end[0], b.begin[1] + b.end[1]], end: [0, 0] })), // all of it at the top and the left
      withPads(i, p, (b) => ({ begin: [0, 0], end: [b.begin[0] + b.end[0], b.begin[1] + b.end[1]] })), // all of it at the bottom and the right
    ],
    trigger: { inputs: { x: t([1, 1, 3, 3], range(9, 1)), weight: t([1, 1, 3, 3], new Array(9).fill(1)) }, params: { padding: 1 } },
  },
  {
    id: 'batchNorm/unbiased-variance',
    op: 'batchNorm',
    title: 'batch norm normalises with the unbiased variance',
    explanation: 'Batch normalisation divides by √(σ² + ε) with the biased (population) variance σ² = Σ(x − μ)²/n over the batch. You used n − 1. (Only the running variance PyTorch stores is unbiased.)',
    apply: (i, p) => wrongBatchNorm(i, p, 'unbiased'),
    trigger: { inputs: { x: t([2, 1, 2, 2], [1, 3, 2, 4, 5, 7, 6, 8]), weight: t([1], [1.5]), bias: t([1], [0]) }, params: { training: true, eps: 0 } },
  },
  {
    id: 'batchNorm/eps-outside-sqrt',
    op: 'batchNorm',
    title: 'ε is added outside the square root',
    explanation: 'The normaliser is √(σ² + ε): ε goes inside the square root, not √σ² + ε.',
    apply: (i, p) => wrongBatchNorm(i, p, 'eps-outside'),
    trigger: { inputs: { x: t([4, 1], [0, 1, 2, 5]) }, params: { training: true, eps: 0.5 } },
  },
  {
    id: 'batchNorm/running-var-biased',
    op: 'batchNorm',
    title: 'the running variance is updated with the biased variance',
    explanation: 'PyTorch stores the unbiased variance σ²·n/(n−1) in running_var (runningVarEstimator "unbiased"); ONNX and Keras store the biased one.',
    apply: (i, p) => ref('batchNorm', i, { ...p, runningVarEstimator: p.runningVarEstimator === 'biased' ? 'unbiased' : 'biased' }),
    signature: ['runningVar'],
    trigger: { inputs: { x: t([4, 1], [1, 2, 3, 4]), runningMean: t([1], [0]), runningVar: t([1], [1]) }, params: { training: true } },
  },
  {
    id: 'avgPool2d/count-include-pad',
    op: 'avgPool2d',
    title: 'count_include_pad the wrong way round',
    explanation: 'With countIncludePad true (PyTorch’s default) the padded cells count in the divisor: a corner 3×3 window with padding 1 divides by 9, not by the 4 real cells. With false it is the other way.',
    apply: (i, p) => ref('avgPool2d', i, { ...p, countIncludePad: !p.countIncludePad }),
    trigger: { inputs: { x: t([1, 1, 3, 3], new Array(9).fill(1)) }, params: { kernelSize: 3, stride: 1, padding: 1 } },
  },
  {
    id: 'maxPool2d/ceil-mode-ignored',
    op: 'maxPool2d',
    title: 'ceil mode is ignored',
    explanation: 'With ceilMode the output size is rounded up, so a partial window at the end still produces an output (as long as it starts inside the input or the left padding).',
    apply: (i, p) => ref('maxPool2d', i, { ...p, ceilMode: !p.ceilMode }),
    trigger: { inputs: { x: t([1, 1, 4, 4], range(16, 1)) }, params: { kernelSize: 3, stride: 2, ceilMode: true } },
  },
  {
    id: 'maxPool2d/padding-as-zero',
    op: 'maxPool2d',
    title: 'max pooling reads the padding as 0',
    explanation: 'Max pooling pads with −∞ (the padding is never chosen): a window of negative values next to the border keeps its negative maximum, not 0.',
    apply(i, p) {
      const { pads } = poolGeometryOf(maxPool2d.opts(resolveParams(maxPool2d, p)), i.x.shape.slice(2));
      const pad = [pads.begin[0], pads.end[0], pads.begin[1], pads.end[1]];
      const [N, C, H, W] = i.x.shape;
      const Hp = H + pad[0] + pad[1];
      const Wp = W + pad[2] + pad[3];
      const x = flat(i.x);
      const padded = new Float64Array(N * C * Hp * Wp);
      for (let nc = 0; nc < N * C; nc++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) padded[(nc * Hp + h + pad[0]) * Wp + w + pad[2]] = x[(nc * H + h) * W + w];
      return ref('maxPool2d', { x: fromData(padded, [N, C, Hp, Wp]) }, { ...p, padding: 0 });
    },
    trigger: { inputs: { x: t([1, 1, 2, 2], [-5, -6, -7, -8]) }, params: { kernelSize: 2, stride: 1, padding: 1 } },
  },
  {
    id: 'roiAlign/no-half-pixel',
    op: 'roiAlign',
    title: 'RoIAlign without (or with) the half-pixel offset',
    explanation: 'With aligned true the box corners are shifted by −0.5 (pixel centres sit at integer + 0.5) and the RoI size is not clamped to 1; aligned false is the legacy behaviour. You used the other convention.',
    apply: (i, p) => ref('roiAlign', i, { ...p, aligned: !p.aligned }),
    trigger: { inputs: { x: t([1, 1, 4, 4], range(16)), boxes: t([1, 5], [0, 0.5, 0.5, 2.5, 2.5]) }, params: { outputSize: 2, aligned: true } },
  },
  {
    id: 'roiPool/no-plus-one',
    op: 'roiPool',
    title: 'RoI pooling without the +1 in the RoI size',
    explanation: 'torchvision’s roi_pool (Fast R-CNN) treats the rounded corners as inclusive: roi_w = x2 − x1 + 1.',
    apply: withOptions(roiPool, (i, o, p) => {
      // shrinking each box by one cell on the high side is the same as dropping the +1
      const b = flat(i.boxes).slice();
      const s = o.spatialScale;
      for (let k = 0; k < b.length; k += 5) {
        b[k + 3] -= 1 / s;
        b[k + 4] -= 1 / s;
      }
      return ref('roiPool', { x: i.x, boxes: fromData(b, i.boxes.shape) }, p);
    }),
    trigger: { inputs: { x: t([1, 1, 4, 4], range(16)), boxes: t([1, 5], [0, 0, 0, 2, 2]) }, params: { outputSize: 2 } },
  },
  {
    id: 'nms/greater-or-equal',
    op: 'nms',
    title: 'NMS suppresses at IoU ≥ threshold',
    explanation: 'A box is suppressed only when its IoU with a kept box is strictly greater than the threshold (torchvision, ONNX, TF); at exactly the threshold it is kept.',
    apply: withOptions(nms, (i, o) => {
      const thr = o.iouThreshold;
      const keep = nmsRef(i.boxes, i.scores, { ...o, iouThreshold: thr - Math.max(Math.abs(thr), 1) * 1e-12 });
      return { keep: fromData(keep, [keep.length]) };
    }),
    trigger: { inputs: { boxes: t([3, 4], [0, 0, 3, 4, 1, 0, 4, 4, 10, 10, 12, 12]), scores: t([3], [0.9, 0.8, 0.7]) }, params: { iouThreshold: 0.5 } },
  },
  {
    id: 'boxIou/plus-one',
    op: 'boxIou',
    title: 'IoU with (or without) the +1 pixel convention',
    explanation: 'torchvision computes widths as x2 − x1; the older detectors (py-faster-rcnn, maskrcnn-benchmark) used x2 − x1 + 1 (pixelInclusive). You used the other convention.',
    apply: (i, p) => ref('boxIou', i, { ...p, pixelInclusive: !p.pixelInclusive }),
    trigger: { inputs: { boxes1: t([1, 4], [0, 0, 2, 2]), boxes2: t([1, 4], [1, 1, 3, 3]) }, params: {} },
  },
  {
    id: 'softmax/no-max-shift',
    op: 'softmax',
    title: 'softmax without subtracting the maximum overflows',
    explanation: 'e^1000 is Infinity in floating point, so e^x / Σ e^x gives NaN. Subtract the maximum first: softmax(x) = softmax(x − max x).',
    apply: withOptions(softmax, (i, o) => {
      // y = e^x / Σ e^x along dim, in plain floating point
      const x = flat(i.x);
      const dim = resolveDim(o.dim, i.x.shape.length, '/params/dim');
      const [outer, size, inner] = splitAt(i.x.shape, dim);
      const y = new Float64Array(x.length);
      for (let o = 0; o < outer; o++)
        for (let k = 0; k < inner; k++) {
          const at = (j: number) => o * size * inner + j * inner + k;
          let sum = 0;
          for (let j = 0; j < size; j++) sum += Math.exp(x[at(j)]);
          for (let j = 0; j < size; j++) y[at(j)] = Math.exp(x[at(j)]) / sum;
        }
      return { y: fromData(y, i.x.shape) };
    }),
    trigger: { inputs: { x: t([1, 3], [1000, 1001, 1002]) }, params: {} },
  },
  {
    id: 'convTranspose2d/no-output-padding',
    op: 'convTranspose2d',
    title: 'transposed convolution without the output padding',
    explanation: 'outputPadding adds rows/columns at the high end of the output (they receive only the bias): out = (in − 1)·s − 2p + d·(k − 1) + outputPadding + 1.',
    apply: (i, p) => ref('convTranspose2d', i, { ...p, outputPadding: 0 }),
    trigger: { inputs: { x: t([1, 1, 2, 2], [1, 2, 3, 4]), weight: t([1, 1, 2, 2], [1, 1, 1, 1]), bias: t([1], [0.5]) }, params: { stride: 2, outputPadding: 1 } },
  },
  {
    id: 'crossEntropy/label-smoothing-ignored',
    op: 'crossEntropy',
    title: 'label smoothing is ignored',
    explanation: 'With label smoothing ε the target becomes (1 − ε)·onehot + ε/C, which adds ε/C·Σ_c (−log p_c) to each loss.',
    apply: (i, p) => ref('crossEntropy', i, { ...p, labelSmoothing: 0 }),
    trigger: { inputs: { logits: t([1, 3], [1, 2, 3]), target: { shape: [1], data: [2], dtype: 'int64' } }, params: { labelSmoothing: 0.1 } },
  },
  {
    id: 'leakyRelu/keras-slope',
    op: 'leakyRelu',
    title: 'leaky ReLU with Keras’ slope 0.3',
    explanation: 'PyTorch’s (and ONNX’s) default negative slope is 0.01; Keras uses 0.3. Use the negativeSlope param.',
    apply: (i) => ref('leakyRelu', i, { negativeSlope: 0.3 }),
    trigger: { inputs: { x: t([3], [-2, 0, 3]) }, params: {} },
  },
  {
    id: 'upsample2d/align-corners',
    op: 'upsample2d',
    title: 'bilinear upsampling with the other alignCorners convention',
    explanation: 'alignCorners false (the default) maps pixel centres with src = (dst + ½)·in/out − ½; alignCorners true maps the corner pixels onto each other, src = dst·(in−1)/(out−1).',
    apply: (i, p) => ref('upsample2d', i, { ...p, alignCorners: !p.alignCorners }),
    trigger: { inputs: { x: t([1, 1, 2, 2], [1, 2, 3, 4]) }, params: { mode: 'bilinear', scaleFactor: 2 } },
  },
];

export function mistakesFor(op: string): Mistake[] {
  return MISTAKES.filter((m) => m.op === op);
}
