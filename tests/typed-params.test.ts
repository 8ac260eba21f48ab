/** Typed params (#16): each op resolves its params once into its options (defineOp's `options`, exposed as `op.opts`). */
import { describe, expect, it } from 'vitest';
import '../src/ops/index.js';
import { allOps, getOp, kernelOf, resolveParams } from '../src/registry.js';
import { Rng } from '../src/rng.js';
import { batchNorm } from '../src/ops/normalization.js';
import { nms, roiAlign } from '../src/ops/detection.js';
import { conv2d } from '../src/ops/conv.js';
import { maxPool1d } from '../src/ops/pooling.js';
import { fromData } from '../src/tensor.js';

describe('op options', () => {
  it('are resolved once per params object: the same frozen object for the same params, a new one for new params', () => {
    const p = resolveParams(batchNorm, { training: true, momentum: 0.25 });
    const o = batchNorm.opts(p);
    expect(o).toEqual({ training: true, momentum: 0.25, eps: 1e-5, runningVarEstimator: 'unbiased' });
    expect(batchNorm.opts(p)).toBe(o);
    expect(Object.isFrozen(o)).toBe(true);
    const q = resolveParams(batchNorm, { training: true, momentum: 0.25 });
    expect(batchNorm.opts(q)).not.toBe(o);
    expect(batchNorm.opts(q)).toEqual(o);
  });

  it('put the accepted param forms into one canonical form', () => {
    expect(conv2d.opts(resolveParams(conv2d, { stride: 2, padding: [1, 2], dilation: [1, 3] }))).toEqual({ stride: [2, 2], dilation: [1, 3], padding: [1, 2], groups: 1, flip: false });
    // a 1-D pool: the stride defaults to the kernel, the dilation to 1
    expect(maxPool1d.opts(resolveParams(maxPool1d, { kernelSize: [3] }))).toEqual({ rank: 1, kernel: [3], stride: [3], dilation: [1], padding: 0, ceilMode: false, returnIndices: false });
    expect(roiAlign.opts(resolveParams(roiAlign, { outputSize: [2, 3], aligned: true }))).toEqual({ ph: 2, pw: 3, spatialScale: 1, samplingRatio: -1, aligned: true });
  });

  it('fill in the schema defaults of a partial params object, as resolveParams would', () => {
    expect(nms.opts({ iouThreshold: 0.5 })).toEqual({ iouThreshold: 0.5, boxFormat: 'xyxy', scoreThreshold: undefined, maxOutput: undefined, pixelInclusive: false });
  });

  it('report a value their schema should have refused as the oracle’s own error, not a cast that lets it through', () => {
    expect(() => batchNorm.opts({ training: 'yes' })).toThrow(/internal: param training is "yes", expected true or false/);
    expect(() => nms.opts({ iouThreshold: 0.5, boxFormat: 'xyzw' })).toThrow(/param boxFormat .* one of xyxy, xywh, cxcywh, yxyx/);
  });

  it('agree with every op’s schema on its generated cases (resolved and partial params alike)', () => {
    let checked = 0;
    for (const op of allOps()) {
      if (!op.generate) continue;
      const rng = new Rng(`typed-${op.name}`);
      for (let k = 0; k < 12; k++) {
        const g = op.generate(rng);
        expect(() => op.opts(resolveParams(op, g.params)), `${op.name} case ${k}`).not.toThrow();
        expect(op.opts(g.params), `${op.name} case ${k}, partial params`).toEqual(op.opts(resolveParams(op, g.params)));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(12 * 40);
  });

  it('of a backward op are its forward op’s', () => {
    const p = resolveParams(batchNorm, { training: true });
    expect(getOp('batchNormBackward').opts(p)).toBe(batchNorm.opts(p));
  });

  it('reach the fast backends’ kernels: the simd NMS keeps what the reference keeps, from typed options', async () => {
    const boxes = fromData([0, 0, 2, 2, 1, 0, 3, 2, 5, 5, 6, 6], [3, 4]);
    const scores = fromData([0.9, 0.8, 0.7], [3]);
    // IoU of the first two is 2/6 = 1/3: kept at threshold 0.5, suppressed at 0.3
    for (const [iouThreshold, keep] of [[0.5, [0, 1, 2]], [0.3, [0, 2]]] as const) {
      const r = await kernelOf(nms, 'simd')!({ boxes, scores }, resolveParams(nms, { iouThreshold }));
      expect(Array.from(r.keep.data)).toEqual(keep);
    }
  });
});
