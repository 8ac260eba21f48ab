/**
 * The `accelerated` backend of the registry: gpu.js kernels (kernels/), float32. Each op's
 * accelerated function is attached here and loads gpu.js only when first called. The wrappers
 * around a kernel (batchNormOutputs, boxIouOutputs, roiAlignOutputs) also serve the simd backend.
 */
import { kernelFor, registerBackend, type Inputs, type KernelTable, type Outputs } from '../registry.js';
import { conv2d, convGeometryOf } from './conv.js';
import { softmax } from './activation.js';
import { convTranspose2d, transposedGeometryOf } from './transposed.js';
import { avgPool2d, maxPool2d, poolGeometryOf } from './pooling.js';
import { batchNorm } from './normalization.js';
import { boxIou, roiAlign, type BoxIouOptions } from './detection.js';
import { boxesXyxy, checkBoxes, type RoiAlignOptions } from '../reference/detection.js';
import type { BatchNormOptions } from '../reference/normalization.js';
import { flat } from '../reference/common.js';
import { fromData, type Arr } from '../tensor.js';
import { invalidInputs } from '../errors.js';

const K = () => import('../../kernels/ops.js');

type BatchNormImpl = (x: Arr, mean: Float64Array | undefined, variance: Float64Array | undefined, gamma: Arr | undefined, beta: Arr | undefined, eps: number) => BatchNormResult | Promise<BatchNormResult>;
interface BatchNormResult {
  y: Arr;
  mean: Float64Array;
  variance: Float64Array;
}

/**
 * batchNorm's outputs around a fast kernel (gpu.js or WebAssembly): the reference's input checks,
 * then in training the batch statistics and the momentum update of the running statistics.
 */
export async function batchNormOutputs(i: Inputs, p: BatchNormOptions, kernel: BatchNormImpl): Promise<Outputs> {
  const [N, C] = i.x.shape;
  const n = N * i.x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (p.training && n <= 1) throw invalidInputs('/inputs/x/shape', 'expected more than 1 value per channel when training');
  if (!p.training && (!i.runningMean || !i.runningVar)) throw invalidInputs(i.runningMean ? '/inputs/runningVar' : '/inputs/runningMean', 'batchNorm in inference (training false) needs runningMean and runningVar');
  const r = await kernel(i.x, p.training ? undefined : flat(i.runningMean), p.training ? undefined : flat(i.runningVar), i.weight, i.bias, p.eps);
  if (!p.training) return { y: r.y };
  const out: Outputs = { y: r.y, batchMean: fromData(r.mean, [C]), batchVar: fromData(r.variance, [C]) };
  if (i.runningMean && i.runningVar) {
    const m = p.momentum;
    const corr = p.runningVarEstimator === 'unbiased' ? n / (n - 1) : 1;
    out.runningMean = fromData(flat(i.runningMean).map((v, c) => (1 - m) * v + m * r.mean[c]), [C]);
    out.runningVar = fromData(flat(i.runningVar).map((v, c) => (1 - m) * v + m * r.variance[c] * corr), [C]);
  }
  return out;
}

/** roiAlign's outputs around a fast kernel (which checks the RoIs with the reference's checkRois). */
export async function roiAlignOutputs(i: Inputs, o: RoiAlignOptions, kernel: (x: Arr, rois: Arr, o: RoiAlignOptions) => Arr | Promise<Arr>): Promise<Outputs> {
  return { y: await kernel(i.x, i.boxes, o) };
}

/** boxIou's outputs around a fast kernel: the reference's box checks, both sets converted to xyxy. */
export async function boxIouOutputs(i: Inputs, p: BoxIouOptions, kernel: (a: Float64Array, b: Float64Array, N: number, M: number, plus: number) => Arr | Promise<Arr>): Promise<Outputs> {
  checkBoxes(i.boxes1, 'boxes1');
  checkBoxes(i.boxes2, 'boxes2');
  const f = p.boxFormat;
  return { iou: await kernel(boxesXyxy(i.boxes1, f), boxesXyxy(i.boxes2, f), i.boxes1.shape[0], i.boxes2.shape[0], p.pixelInclusive ? 1 : 0) };
}

const ACCELERATED: KernelTable = {
  conv2d: kernelFor(conv2d, async (i, o) => ({ y: (await K()).conv2d(i.x, i.weight, i.bias, convGeometryOf(o, i.weight.shape.slice(2), i.x.shape.slice(2))) })),
  convTranspose2d: kernelFor(convTranspose2d, async (i, o) => ({ y: (await K()).convTranspose2d(i.x, i.weight, i.bias, transposedGeometryOf(o, i.weight.shape.slice(2))) })),
  linear: async (i) => ({ y: (await K()).linear(i.x, i.weight, i.bias) }),
  maxPool2d: kernelFor(maxPool2d, async (i, o): Promise<Outputs> => {
    const r = (await K()).maxPool2d(i.x, poolGeometryOf(o, i.x.shape.slice(2)), o.returnIndices);
    return r.indices ? { y: r.y, indices: r.indices } : { y: r.y };
  }),
  avgPool2d: kernelFor(avgPool2d, async (i, o) => ({ y: (await K()).avgPool2d(i.x, poolGeometryOf(o, i.x.shape.slice(2)), o) })),
  softmax: kernelFor(softmax, async (i, o) => ({ y: (await K()).softmax(i.x, o.dim) })),
  hardswish: async (i) => ({ y: (await K()).hardswish(i.x) }),
  batchNorm: kernelFor(batchNorm, async (i, o) => batchNormOutputs(i, o, (await K()).batchNorm)),
  roiAlign: kernelFor(roiAlign, async (i, o) => roiAlignOutputs(i, o, (await K()).roiAlign)),
  boxIou: kernelFor(boxIou, async (i, o) => boxIouOutputs(i, o, (await K()).boxIou)),
};

registerBackend('accelerated', ACCELERATED);
