/** Registry entries: boxIou, generalizedBoxIou, boxConvert, nms, batchedNms, roiPool, roiAlign. */
import { type Inputs, defineOp, type Outputs, type Params, register } from '../registry.js';
import { chargeElements, chargeWork } from '../validate.js';
import { invalidInputs } from '../errors.js';
import { flat } from '../reference/common.js';
import {
  BOX_FORMATS,
  batchedNmsRef,
  boxConvertRef,
  boxIouRef,
  generalizedBoxIouRef,
  nmsRef,
  checkRois,
  roiAlignGrid,
  nmsKeepSets,
  batchedNmsKeepSets,
  roiAlignRef,
  roiPoolRef,
  type BoxFormat,
  type NmsOptions,
} from '../reference/detection.js';
import { bool, dims, intOrPair, num, oneOf, optNum } from '../params.js';
import { input, randTensor } from './helpers.js';
import { dotBound, relativeBound } from '../judge/bounds.js';
import { type Arr, fromData } from '../tensor.js';
import { boundaryAlternatives } from './helpers.js';
import { roiAlignBoundaries, roiAlignCoordinateBound, roiPoolBoundaries } from '../reference/boundaries.js';
import type { Rng } from '../rng.js';
import { backwardOf } from './backward.js';
import { roiAlignBackwardRef, roiPoolBackwardRef, type RoiAlignOptions } from '../reference/detection.js';

const boxFormat = { name: 'boxFormat', schema: { enum: [...BOX_FORMATS] }, default: 'xyxy', doc: 'xyxy, xywh, cxcywh or yxyx' };
const pixelInclusive = { name: 'pixelInclusive', schema: { type: 'boolean' }, default: false, doc: 'legacy +1 widths and heights (pixel-inclusive corners)' };

/** Random xyxy boxes on a small integer grid (so IoU ties and exact thresholds happen). */
function randBoxes(rng: Rng, n: number, size = 10): Arr {
  const d = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x1 = rng.int(-2, size - 2);
    const y1 = rng.int(-2, size - 2);
    d.set([x1, y1, x1 + rng.int(1, 6), y1 + rng.int(1, 6)], 4 * i);
  }
  return fromData(d, [n, 4]);
}

/** Distinct scores (multiples of 1/16), so the greedy order has no ties. */
function randScores(rng: Rng, n: number): Arr {
  const pool = Array.from({ length: 4 * n + 4 }, (_, i) => i / 16);
  const s: number[] = [];
  for (let i = 0; i < n; i++) s.push(pool.splice(rng.int(0, pool.length - 1), 1)[0]);
  return fromData(s, [n]);
}

/** roiAlign's params resolved once, typed: the reference, its backward, the work estimate and the fast backends take this. */
export function roiAlignOptions(p: Params): RoiAlignOptions {
  const [ph, pw] = dims(p, 'outputSize', 2);
  return { ph, pw, spatialScale: num(p, 'spatialScale'), samplingRatio: num(p, 'samplingRatio'), aligned: bool(p, 'aligned') };
}

/** roiPool's params resolved once: the pooled size and the coordinate scale. */
export interface RoiPoolOptions {
  ph: number;
  pw: number;
  spatialScale: number;
}
export function roiPoolOptions(p: Params): RoiPoolOptions {
  const [ph, pw] = dims(p, 'outputSize', 2);
  return { ph, pw, spatialScale: num(p, 'spatialScale') };
}

export const nmsOptions = (p: Params): NmsOptions => ({
  iouThreshold: num(p, 'iouThreshold'),
  boxFormat: oneOf(p, 'boxFormat', BOX_FORMATS),
  scoreThreshold: optNum(p, 'scoreThreshold'),
  maxOutput: optNum(p, 'maxOutput'),
  pixelInclusive: bool(p, 'pixelInclusive'),
});

/** boxIou's params resolved once. */
export interface BoxIouOptions {
  boxFormat: BoxFormat;
  pixelInclusive: boolean;
}
export const boxIouOptions = (p: Params): BoxIouOptions => ({ boxFormat: oneOf(p, 'boxFormat', BOX_FORMATS), pixelInclusive: bool(p, 'pixelInclusive') });

/** The non-exact keep sets as admissible outputs, with the ambiguous pairs as the reason. */
function keepAlternatives(r: { sets: number[][]; ambiguous: string[]; bounded: boolean }): { outputs: Outputs[]; why: string } | undefined {
  if (!r.ambiguous.length) return undefined;
  const why = `ambiguous at this precision (rounding may flip a decision): ${r.ambiguous.join('; ')}${r.bounded ? '; branching bounded at 64 keep sets' : ''}`;
  return { outputs: r.sets.slice(1).map((k) => ({ keep: fromData(k, [k.length]) })), why };
}

export const boxIou = defineOp({
  name: 'boxIou',
  options: boxIouOptions,
  family: 'detection',
  summary: 'pairwise intersection over union of two box sets',
  inputs: [input('boxes1', '[N, 4]', [2], { emptyAxes: [0] }), input('boxes2', '[M, 4]', [2], { emptyAxes: [0] })],
  params: [boxFormat, pixelInclusive],
  outputs: [{ name: 'iou', doc: '[N, M]; 0 where both boxes are empty' }],
  reference: (i, p) => ({ iou: boxIouRef(i.boxes1, i.boxes2, p.boxFormat, p.pixelInclusive) }),
  errorBound: (i, p, o, u) => relativeBound(o, 8, u, 8 * u),
  generate: (rng) => ({ inputs: { boxes1: randBoxes(rng, rng.int(1, 4)), boxes2: randBoxes(rng, rng.int(1, 4)) }, params: { pixelInclusive: rng.next() < 0.2 } }),
});

export const generalizedBoxIou = defineOp({
  name: 'generalizedBoxIou',
  options: (p): { boxFormat: BoxFormat } => ({ boxFormat: oneOf(p, 'boxFormat', BOX_FORMATS) }),
  family: 'detection',
  summary: 'pairwise generalised IoU: IoU − (hull − union)/hull',
  inputs: [input('boxes1', '[N, 4]', [2], { emptyAxes: [0] }), input('boxes2', '[M, 4]', [2], { emptyAxes: [0] })],
  params: [boxFormat],
  outputs: [{ name: 'giou', doc: '[N, M] in [−1, 1]' }],
  reference: (i, p) => ({ giou: generalizedBoxIouRef(i.boxes1, i.boxes2, p.boxFormat) }),
  errorBound: (i, p, o, u) => relativeBound(o, 12, u, 12 * u),
  generate: (rng) => ({ inputs: { boxes1: randBoxes(rng, rng.int(1, 4)), boxes2: randBoxes(rng, rng.int(1, 4)) }, params: {} }),
});

export const boxConvert = defineOp({
  name: 'boxConvert',
  options: (p): { inFormat: BoxFormat; outFormat: BoxFormat } => ({ inFormat: oneOf(p, 'inFormat', BOX_FORMATS), outFormat: oneOf(p, 'outFormat', BOX_FORMATS) }),
  family: 'detection',
  summary: 'convert boxes between xyxy, xywh, cxcywh and yxyx',
  inputs: [input('boxes', '[N, 4]', [2], { emptyAxes: [0] })],
  params: [
    { name: 'inFormat', schema: { enum: [...BOX_FORMATS] }, doc: 'format of the input (required)' },
    { name: 'outFormat', schema: { enum: [...BOX_FORMATS] }, doc: 'format of the output (required)' },
  ],
  outputs: [{ name: 'boxes', doc: '[N, 4]' }],
  reference: (i, p) => ({ boxes: boxConvertRef(i.boxes, p.inFormat, p.outFormat) }),
  errorBound: (i, p, o, u) => {
    const m = Math.max(1, ...Array.from(i.boxes.data).map(Math.abs));
    return relativeBound(o, 4, u, 4 * u * m);
  },
  generate: (rng) => ({ inputs: { boxes: randBoxes(rng, rng.int(1, 4)) }, params: { inFormat: rng.pick([...BOX_FORMATS]), outFormat: rng.pick([...BOX_FORMATS]) } }),
});

const nmsParams = [
  { name: 'iouThreshold', schema: { type: 'number' }, doc: 'suppress when IoU > threshold (strict; required)' },
  boxFormat,
  { name: 'scoreThreshold', schema: { type: 'number' }, optional: true, doc: 'drop boxes with score ≤ this first' },
  { name: 'maxOutput', schema: { type: 'integer', minimum: 0 }, optional: true, doc: 'keep at most this many' },
  pixelInclusive,
];

export const nms = defineOp({
  name: 'nms',
  options: nmsOptions,
  family: 'detection',
  summary: 'greedy non-maximum suppression (IoU > threshold suppresses; ties: lower index first)',
  inputs: [input('boxes', '[N, 4]', [2], { emptyAxes: [0] }), input('scores', '[N]', [1], { emptyAxes: [0] })],
  params: nmsParams,
  outputs: [{ name: 'keep', dtype: 'int64', doc: 'kept indices by decreasing score' }],
  reference(i, p) {
    const keep = nmsRef(i.boxes, i.scores, p);
    return { keep: fromData(keep, [keep.length]) };
  },
  admissible: (i, p, u) => keepAlternatives(nmsKeepSets(i.boxes, i.scores, p, u)),
  ulps: 0,
  generate(rng) {
    const n = rng.int(1, 7);
    return { inputs: { boxes: randBoxes(rng, n, 6), scores: randScores(rng, n) }, params: { iouThreshold: rng.pick([0, 0.1, 0.3, 0.5, 0.7]) } };
  },
});

export const batchedNms = defineOp({
  name: 'batchedNms',
  options: nmsOptions,
  family: 'detection',
  summary: 'class-aware NMS, done per class (negative coordinates fine)',
  inputs: [input('boxes', '[N, 4]', [2], { emptyAxes: [0] }), input('scores', '[N]', [1], { emptyAxes: [0] }), input('classes', 'int64 [N]', [1], { kind: 'index', emptyAxes: [0] })],
  params: nmsParams,
  outputs: [{ name: 'keep', dtype: 'int64', doc: 'kept indices by decreasing score' }],
  reference(i, p) {
    const keep = batchedNmsRef(i.boxes, i.scores, i.classes, p);
    return { keep: fromData(keep, [keep.length]) };
  },
  admissible: (i, p, u) => keepAlternatives(batchedNmsKeepSets(i.boxes, i.scores, i.classes, p, u)),
  ulps: 0,
  generate(rng) {
    const n = rng.int(1, 8);
    return {
      inputs: { boxes: randBoxes(rng, n, 6), scores: randScores(rng, n), classes: fromData(Array.from({ length: n }, () => rng.int(0, 2)), [n]) },
      params: { iouThreshold: rng.pick([0.1, 0.3, 0.5]) },
    };
  },
});

const roiInputs = [input('x', '[N, C, H, W]', [4]), input('boxes', '[K, 5]: batch index, x1, y1, x2, y2', [2], { emptyAxes: [0] })];

/**
 * The validation of both RoI ops: boxes [K, 5] with finite coordinates and a batch index of x,
 * the output K·C·h·w and the sampling work within the budget (a box of 1e9 pixels with adaptive
 * sampling would otherwise take 10¹⁸ steps).
 */
function validateRois(i: Inputs, kind: 'roiPool' | 'roiAlign', { ph, pw }: RoiPoolOptions, align?: RoiAlignOptions): void {
  checkRois(i.x, i.boxes);
  const r = flat(i.boxes);
  for (let k = 0; k < r.length; k++) {
    if (!Number.isFinite(r[k])) throw invalidInputs(`/inputs/boxes/data/${k}`, `box ${Math.floor(k / 5)} has a non-finite value ${r[k]}; RoI coordinates must be finite`);
  }
  const [, C, H, W] = i.x.shape;
  const K = i.boxes.shape[0];
  chargeElements([K, C, ph, pw], `${kind}'s output`, '/params/outputSize');
  let steps = 0;
  for (let k = 0; k < K; k++) {
    if (!align) steps += C * (H + ph) * (W + pw);
    else {
      const g = roiAlignGrid(r, k, align);
      steps += C * ph * pw * Math.max(g.gridH * g.gridW, 1);
    }
  }
  chargeWork(steps, `${kind} (${K} boxes × ${C} channels × ${ph}×${pw} bins × samples per bin)`, align && align.samplingRatio > 0 ? '/params/samplingRatio' : '/inputs/boxes');
}

/** Both RoI ops: y [K, C, h, w]. */
function roiOutputShapes(i: Inputs, { ph, pw }: RoiPoolOptions): Record<string, number[]> {
  return { y: [i.boxes.shape[0], i.x.shape[1], ph, pw] };
}
const outputSize = { name: 'outputSize', schema: intOrPair(1), doc: 'pooled [h, w] (required)' };
const spatialScale = { name: 'spatialScale', schema: { type: 'number', exclusiveMinimum: 0 }, default: 1, doc: 'box coordinates × scale = feature-map coordinates' };

function genRois(rng: Rng): { x: Arr; boxes: Arr } {
  const [N, C, H, W] = [rng.int(1, 2), rng.int(1, 2), rng.int(3, 7), rng.int(3, 7)];
  const K = rng.int(1, 3);
  const b = new Float64Array(5 * K);
  for (let k = 0; k < K; k++) {
    const x1 = rng.int(-2, W - 1) + rng.pick([0, 0.25, 0.5]);
    const y1 = rng.int(-2, H - 1) + rng.pick([0, 0.25, 0.5]);
    b.set([rng.int(0, N - 1), x1, y1, x1 + rng.int(0, 5) + rng.pick([0, 0.5, 0.75]), y1 + rng.int(0, 5) + rng.pick([0, 0.5])], 5 * k);
  }
  return { x: randTensor(rng, [N, C, H, W]), boxes: fromData(b, [K, 5]) };
}

export const roiPool = defineOp({
  name: 'roiPool',
  options: roiPoolOptions,
  family: 'detection',
  summary: 'RoI max pooling (torchvision: round half away from zero, +1 size, empty bin → 0)',
  inputs: roiInputs,
  params: [outputSize, spatialScale],
  outputs: [{ name: 'y', doc: '[K, C, h, w]' }],
  reference: (i, p) => ({ y: roiPoolRef(i.x, i.boxes, p.ph, p.pw, p.spatialScale).y }),
  admissible: (i, p, u) => boundaryAlternatives(roiPoolBoundaries(i.x, i.boxes, p.ph, p.pw, p.spatialScale, u)),
  validate: (i, p) => validateRois(i, 'roiPool', p),
  outputShapes: (i, p) => roiOutputShapes(i, p),
  ulps: 0,
  generate: (rng) => ({ inputs: genRois(rng), params: { outputSize: [rng.int(1, 3), rng.int(1, 3)], spatialScale: rng.pick([1, 0.5]) } }),
});

export const roiAlign = defineOp({
  name: 'roiAlign',
  options: roiAlignOptions,
  family: 'detection',
  summary: 'RoIAlign (torchvision CPU kernel): bilinear samples averaged per bin',
  inputs: roiInputs,
  params: [
    outputSize,
    spatialScale,
    { name: 'samplingRatio', schema: { type: 'integer' }, default: -1, doc: 'samples per bin side; ≤ 0: adaptive ⌈roi/pooled⌉' },
    { name: 'aligned', schema: { type: 'boolean' }, default: false, doc: 'half-pixel offset (ONNX half_pixel); false is the legacy behaviour' },
  ],
  outputs: [{ name: 'y', doc: '[K, C, h, w]' }],
  reference: (i, p) => ({ y: roiAlignRef(i.x, i.boxes, p) }),
  admissible: (i, p, u) => boundaryAlternatives(roiAlignBoundaries(i.x, i.boxes, p, checkRois(i.x, i.boxes).batch, u)),
  validate: (i, p) => validateRois(i, 'roiAlign', p, p),
  outputShapes: (i, p) => roiOutputShapes(i, p),
  errorBound(i, opts, o, u, params) {
    const b = dotBound(this, i, params, o, u, 64, ['x']);
    // plus the rounding of the sample coordinates (a weight is off by an absolute amount, not a relative one)
    const c = roiAlignCoordinateBound(i.x, i.boxes, opts, checkRois(i.x, i.boxes).batch, u);
    return { y: fromData(flat(b.y).map((v, t) => v + c[t]), b.y.shape) };
  },
  generate: (rng) => ({
    inputs: genRois(rng),
    params: { outputSize: [rng.int(1, 3), rng.int(1, 3)], spatialScale: rng.pick([1, 0.5]), samplingRatio: rng.pick([-1, 1, 2]), aligned: rng.next() < 0.5 },
  }),
});

export const roiPoolBackward = backwardOf(roiPool, {
  gradOf: { dx: 'x' },
  reference: (i, p) => ({ dx: roiPoolBackwardRef(i.x, i.boxes, i.dy, p.ph, p.pw, p.spatialScale) }),
});

export const roiAlignBackward = backwardOf(roiAlign, {
  gradOf: { dx: 'x' },
  reference(i, p) {
    return { dx: roiAlignBackwardRef(i.x, i.boxes, i.dy, p) };
  },
});

register(boxIou, generalizedBoxIou, boxConvert, nms, batchedNms, roiPool, roiAlign, roiAlignBackward, roiPoolBackward);
