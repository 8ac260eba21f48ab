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
];
