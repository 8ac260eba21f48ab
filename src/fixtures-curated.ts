/**
 * Hand-picked fixture cases: the worked examples of the course notes and the corners of each op.
 * Their expected values come from the reference; the tests check the worked examples against
 * numbers computed by hand.
 */
import type { CuratedCase } from './fixtures.js';

const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => i + start);
const ones = (n: number) => new Array<number>(n).fill(1);

export const CURATED: CuratedCase[] = [
  // convolution family
  {
    id: 'convolve/vector-full',
    op: 'convolve',
    inputs: { a: { shape: [3], data: [1, 0, -1] }, b: { shape: [3], data: [0, 1, 2] } },
    tags: ['exercise'],
    note: 'a ∗ b has length m + n − 1 = 5: [0, 1, 2, −1, −2]',
  },
  {
    id: 'convolve/sobel-same',
    op: 'convolve',
    inputs: { a: { shape: [3, 3], data: range(9, 1) }, b: { shape: [3, 3], data: [-1, -2, -1, 0, 0, 0, 1, 2, 1] } },
    params: { mode: 'same' },
    tags: ['exercise'],
    note: 'true convolution (kernel rotated), zero padding, same size: y[0,0] = −13',
  },
  {
    id: 'conv2d/stride2-pad1',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 7, 5], data: range(35) }, weight: { shape: [1, 1, 3, 3], data: ones(9) } },
    params: { stride: 2, padding: 1 },
  },
  {
    id: 'conv2d/asymmetric-padding',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 7, 5], data: range(35) }, weight: { shape: [1, 1, 3, 3], data: ones(9) } },
    params: { stride: 2, padding: [1, 1, 0, 0] },
    tags: ['edge:asymmetric-padding'],
  },
  {
    id: 'conv2d/same-even-kernel',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 4, 4], data: range(16) }, weight: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { padding: 'same' },
    tags: ['edge:same-odd-extra-at-end'],
    note: '"same" with an even kernel pads 0 before and 1 after',
  },
  {
    id: 'conv2d/groups-depthwise',
    op: 'conv2d',
    inputs: { x: { shape: [1, 2, 3, 3], data: range(18) }, weight: { shape: [2, 1, 2, 2], data: [1, 0, 0, 1, 0, 1, 1, 0] } },
    params: { groups: 2 },
    tags: ['edge:groups'],
  },
  {
    id: 'conv2d/dilation-bias',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 4, 4], data: range(16) }, weight: { shape: [1, 1, 2, 2], data: [1, 0, 0, 1] }, bias: { shape: [1], data: [0.5] } },
    params: { dilation: 2 },
  },
  {
    id: 'conv2d/kernel-equals-input',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 3, 3], data: range(9) }, weight: { shape: [1, 1, 3, 3], data: range(9) } },
    tags: ['edge:kernel-equals-input'],
  },
  {
    id: 'conv2d/flip-true-convolution',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 3, 3], data: range(9, 1) }, weight: { shape: [1, 1, 3, 3], data: [-1, -2, -1, 0, 0, 0, 1, 2, 1] } },
    params: { padding: 1, flip: true },
    note: 'the Sobel example as a conv2d with flip: the same numbers as convolve "same"',
  },
  {
    id: 'conv1d/stride2-asymmetric',
    op: 'conv1d',
    inputs: { x: { shape: [1, 1, 5], data: [1, 2, 3, 4, 5] }, weight: { shape: [1, 1, 3], data: [1, 1, 1] } },
    params: { stride: 2, padding: [1, 2] },
  },
  // dense, activations, losses
  {
    id: 'linear/cancellation',
    op: 'linear',
    inputs: { x: { shape: [1, 3], data: [1e8, 1, -1e8] }, weight: { shape: [1, 3], data: [1e8, 1, 1e8] } },
    tags: ['edge:cancellation'],
    note: 'naive float summation gives 0; the exact answer is 1',
  },
  { id: 'softmax/large', op: 'softmax', inputs: { x: { shape: [1, 3], data: [1000, 1001, 1002] } }, tags: ['edge:overflow'] },
  { id: 'logSoftmax/pm1000', op: 'logSoftmax', inputs: { x: { shape: [1, 2], data: [-1000, 1000] } }, tags: ['edge:overflow'] },
  { id: 'sigmoid/saturation', op: 'sigmoid', inputs: { x: { shape: [4], data: [-1000, -1, 0, 1000] } } },
  {
    id: 'crossEntropy/exercise',
    op: 'crossEntropy',
    inputs: { logits: { shape: [1, 3], data: [1, 2, 3] }, target: { shape: [1], data: [2], dtype: 'int64' } },
    tags: ['exercise'],
  },
  {
    id: 'crossEntropy/label-smoothing',
    op: 'crossEntropy',
    inputs: { logits: { shape: [2, 3], data: [1, 2, 3, 0, 0, 0] }, target: { shape: [2], data: [2, 0], dtype: 'int64' } },
    params: { labelSmoothing: 0.1 },
  },
  {
    id: 'crossEntropy/ignore-index',
    op: 'crossEntropy',
    inputs: { logits: { shape: [3, 2], data: [0, 0, 1, 0, 0, 1] }, target: { shape: [3], data: [0, -100, 1], dtype: 'int64' } },
    params: { reduction: 'mean' },
  },
  // pooling, unpooling, upsampling
  {
    id: 'maxPool2d/ceil-mode',
    op: 'maxPool2d',
    inputs: { x: { shape: [1, 1, 4, 4], data: range(16, 1) } },
    params: { kernelSize: 3, stride: 2, ceilMode: true, returnIndices: true },
    tags: ['edge:ceil-mode'],
    note: 'ceil mode keeps the partial last window: 2×2, not 1×1',
  },
  {
    id: 'maxPool2d/ceil-last-window-in-padding-dropped',
    op: 'maxPool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { kernelSize: 1, stride: 2, ceilMode: true },
    tags: ['edge:ceil-mode'],
    note: 'a window that would start past the input is dropped: 1×1 output',
  },
  {
    id: 'maxPool2d/negative-with-padding',
    op: 'maxPool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [-5, -6, -7, -8] } },
    params: { kernelSize: 2, stride: 1, padding: 1 },
    tags: ['edge:padding-never-read'],
    note: 'padding is −∞ for max pooling, never 0',
  },
  {
    id: 'avgPool2d/ceil-mode',
    op: 'avgPool2d',
    inputs: { x: { shape: [1, 1, 4, 4], data: range(16, 1) } },
    params: { kernelSize: 3, stride: 2, ceilMode: true },
    tags: ['edge:ceil-mode'],
  },
  {
    id: 'avgPool2d/ceil-last-window-starts-on-pad',
    op: 'avgPool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { kernelSize: 3, stride: 3, padding: 1, ceilMode: true },
    tags: ['edge:ceil-mode', 'edge:count-include-pad'],
    note: 'one output: the sum divided by 9 (the window within the padded input)',
  },
  {
    id: 'avgPool2d/count-include-pad',
    op: 'avgPool2d',
    inputs: { x: { shape: [1, 1, 3, 3], data: ones(9) } },
    params: { kernelSize: 3, stride: 1, padding: 1, countIncludePad: true },
    tags: ['edge:count-include-pad'],
    note: 'corners 4/9, edges 6/9: padded cells count in the divisor',
  },
  {
    id: 'avgPool2d/count-exclude-pad',
    op: 'avgPool2d',
    inputs: { x: { shape: [1, 1, 3, 3], data: ones(9) } },
    params: { kernelSize: 3, stride: 1, padding: 1, countIncludePad: false },
    tags: ['edge:count-include-pad'],
  },
  {
    id: 'avgPool1d/ceil-overhang-not-counted',
    op: 'avgPool1d',
    inputs: { x: { shape: [1, 1, 5], data: [1, 2, 3, 4, 5] } },
    params: { kernelSize: 2, ceilMode: true },
    tags: ['edge:ceil-mode'],
    note: 'the last window holds one cell and divides by 1',
  },
  {
    id: 'maxUnpool2d/pytorch-doc',
    op: 'maxUnpool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [6, 8, 14, 16] }, indices: { shape: [1, 1, 2, 2], data: [5, 7, 13, 15], dtype: 'int64' } },
    params: { kernelSize: 2 },
    tags: ['exercise'],
  },
  {
    id: 'upsample2d/bilinear-half-pixel',
    op: 'upsample2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { mode: 'bilinear', scaleFactor: 2 },
  },
  {
    id: 'upsample2d/bilinear-align-corners',
    op: 'upsample2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { mode: 'bilinear', scaleFactor: 2, alignCorners: true },
  },
  {
    id: 'upsample2d/nearest-bed',
    op: 'upsample2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [1, 2, 3, 4] } },
    params: { mode: 'nearest', size: [4, 4] },
    tags: ['exercise'],
  },
  // transposed convolution
  {
    id: 'convTranspose1d/stride2-overlap',
    op: 'convTranspose1d',
    inputs: { x: { shape: [1, 1, 3], data: [1, 2, 3] }, weight: { shape: [1, 1, 3], data: [1, 10, 100] } },
    params: { stride: 2 },
    tags: ['exercise'],
    note: 'copies of the filter weighted by each input, summed where they overlap',
  },
  {
    id: 'convTranspose1d/output-padding',
    op: 'convTranspose1d',
    inputs: { x: { shape: [1, 1, 3], data: [1, 2, 3] }, weight: { shape: [1, 1, 2], data: [1, 1] }, bias: { shape: [1], data: [0.5] } },
    params: { stride: 2, outputPadding: 1 },
    tags: ['edge:output-padding'],
    note: 'the extra last element receives only the bias',
  },
  {
    id: 'convTranspose2d/groups-padding-dilation',
    op: 'convTranspose2d',
    inputs: { x: { shape: [1, 2, 2, 2], data: range(8) }, weight: { shape: [2, 2, 2, 2], data: range(16, -8) }, bias: { shape: [4], data: [1, 2, 3, 4] } },
    params: { stride: 2, padding: 1, dilation: 2, groups: 2, outputPadding: 1 },
    tags: ['edge:groups', 'edge:output-padding'],
  },
  // normalization
  {
    id: 'batchNorm/exercise',
    op: 'batchNorm',
    inputs: {
      x: { shape: [2, 1, 2, 2], data: [1, 3, 2, 4, 5, 7, 6, 8] },
      weight: { shape: [1], data: [1.5] },
      bias: { shape: [1], data: [0] },
      runningMean: { shape: [1], data: [0] },
      runningVar: { shape: [1], data: [1] },
    },
    params: { training: true, eps: 0 },
    tags: ['exercise'],
    note: 'μ = 4.5 and σ² = 5.25 (biased, over all 8 values); y = 1.5·(x − 4.5)/√5.25',
  },
  {
    id: 'batchNorm/inference',
    op: 'batchNorm',
    inputs: { x: { shape: [2, 2], data: [1, 2, 3, 4] }, runningMean: { shape: [2], data: [2, 3] }, runningVar: { shape: [2], data: [1, 4] } },
    params: { training: false },
  },
  {
    id: 'batchNorm/onnx-biased-running-var',
    op: 'batchNorm',
    inputs: { x: { shape: [4, 1], data: [1, 2, 3, 4] }, runningMean: { shape: [1], data: [0] }, runningVar: { shape: [1], data: [1] } },
    params: { training: true, momentum: 0.1, runningVarEstimator: 'biased' },
  },
  {
    id: 'groupNorm/two-groups',
    op: 'groupNorm',
    inputs: { x: { shape: [1, 4, 1, 2], data: [1, 2, 3, 4, 5, 6, 7, 9] }, weight: { shape: [4], data: [1, 2, 1, 2] }, bias: { shape: [4], data: [0, 0, 1, 1] } },
    params: { numGroups: 2 },
  },
];
