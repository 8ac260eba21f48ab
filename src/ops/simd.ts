/**
 * The `simd` backend of the registry: hand-written WebAssembly SIMD kernels (kernels/simd/),
 * float32: the ops that are matrix multiplies at heart (SIMD micro-kernel), and pooling, softmax,
 * batch norm, IoU, NMS and RoIAlign (scalar loops over the float64 input). Loaded when first called.
 */
import { kernelFor, registerBackend, type Inputs, type KernelTable, type Outputs } from '../registry.js';
import { UNARY, type UnaryName } from '../../kernels/simd/wat.js';
import { conv2d, convGeometryOf } from './conv.js';
import { softmax } from './activation.js';
import { convTranspose2d, transposedGeometryOf } from './transposed.js';
import { avgPool2d, maxPool2d, poolGeometryOf } from './pooling.js';
import { batchedNms, boxIou, nms, roiAlign } from './detection.js';
import { batchNorm } from './normalization.js';
import { batchNormOutputs, boxIouOutputs, roiAlignOutputs } from './accelerated.js';
import { batchedNmsRef, nmsRef } from '../reference/detection.js';
import { fromData } from '../tensor.js';

const S = () => import('../../kernels/simd/ops.js');
const R = () => import('../../kernels/simd/reduce.js');
const D = () => import('../../kernels/simd/detection.js');
const B = () => import('../../kernels/simd/normalization.js');

const SIMD: KernelTable = {
  conv2d: kernelFor(conv2d, async (i, o) => ({ y: await (await S()).conv2d(i.x, i.weight, i.bias, convGeometryOf(o, i.weight.shape.slice(2), i.x.shape.slice(2))) })),
  convTranspose2d: kernelFor(convTranspose2d, async (i, o) => ({ y: await (await S()).convTranspose2d(i.x, i.weight, i.bias, transposedGeometryOf(o, i.weight.shape.slice(2))) })),
  linear: async (i) => ({ y: await (await S()).linear(i.x, i.weight, i.bias) }),
  maxPool2d: kernelFor(maxPool2d, async (i, o): Promise<Outputs> => {
    const r = await (await R()).maxPool2d(i.x, poolGeometryOf(o, i.x.shape.slice(2)), o.returnIndices);
    return r.indices ? { y: r.y, indices: r.indices } : { y: r.y };
  }),
  batchNorm: kernelFor(batchNorm, async (i, o) => batchNormOutputs(i, o, (await B()).batchNorm)),
  boxIou: kernelFor(boxIou, async (i, o) => boxIouOutputs(i, o, (await D()).boxIou)),
  // the reference's NMS with its greedy scan in WebAssembly: the same decisions, exactly
  nms: kernelFor(nms, async (i, o) => {
    const keep = nmsRef(i.boxes, i.scores, o, undefined, await (await D()).nmsScanner());
    return { keep: fromData(keep, [keep.length]) };
  }),
  batchedNms: kernelFor(batchedNms, async (i, o) => {
    const keep = batchedNmsRef(i.boxes, i.scores, i.classes, o, await (await D()).nmsScanner());
    return { keep: fromData(keep, [keep.length]) };
  }),
  roiAlign: kernelFor(roiAlign, async (i, o) => roiAlignOutputs(i, o, (await D()).roiAlign)),
  softmax: kernelFor(softmax, async (i, o) => ({ y: await (await R()).softmax(i.x, o.dim) })),
  // every elementwise kernel of UNARY (kernels/simd/wat.ts), under its op's name
  ...Object.fromEntries(Object.keys(UNARY).map((name) => [name, async (i: Inputs) => ({ y: await (await R()).unary(name as UnaryName, i.x) })])),
  avgPool2d: kernelFor(avgPool2d, async (i, o) => ({ y: await (await R()).avgPool2d(i.x, poolGeometryOf(o, i.x.shape.slice(2)), o) })),
};

registerBackend('simd', SIMD);
