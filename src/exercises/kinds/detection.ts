/**
 * Exercise kinds on scores and boxes: IoU, greedy NMS, softmax and cross-entropy. Answers and
 * wrong answers run the registry's boxIou, nms, softmax and crossEntropy.
 */
import { fromData } from '../../tensor.js';
import type { Rng } from '../../rng.js';
import { fmt, num, run, sum, type Kind, type P, type WrongAnswer } from './common.js';

const iou = (a: number[], b: number[], pixelInclusive = false) => run('boxIou', { boxes1: fromData(a, [1, 4]), boxes2: fromData(b, [1, 4]) }, { pixelInclusive }).iou.data[0];
const area = (b: number[]) => (b[2] - b[0]) * (b[3] - b[1]);
const overlap = (a: number[], b: number[]) => Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0])) * Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));

const iouKind: Kind = {
  name: 'iouByHand',
  exact: false,
  question: (p) => `What is the IoU of the boxes ${fmt(p.box1)} and ${fmt(p.box2)} (x1, y1, x2, y2; widths x2 − x1)?`,
  answer: (p) => iou(p.box1, p.box2),
  steps(p) {
    const [a, b] = [p.box1, p.box2];
    const iw = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
    const ih = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
    const [A, B] = [area(a), area(b)];
    return [`Intersection ${iw}×${ih} = ${iw * ih}; areas ${A} and ${B}; union ${A} + ${B} − ${iw * ih} = ${A + B - iw * ih}.`, `IoU = ${iw * ih}/${A + B - iw * ih} = ${num(iou(a, b))}.`];
  },
  mistakes: (p) => [
    { value: iou(p.box1, p.box2, true), label: 'used the +1 pixel convention (widths x2 − x1 + 1)' },
    { value: overlap(p.box1, p.box2) / (area(p.box1) + area(p.box2)), label: 'forgot to subtract the intersection from the union' },
    { value: overlap(p.box1, p.box2) / Math.min(area(p.box1), area(p.box2)), label: 'divided by the smaller box instead of the union' },
  ],
  hint: () => 'IoU = intersection area / (area₁ + area₂ − intersection area)',
  vary(rng) {
    const box = () => {
      const x = rng.int(0, 6);
      const y = rng.int(0, 6);
      return [x, y, x + rng.int(2, 6), y + rng.int(2, 6)];
    };
    return { box1: box(), box2: box() };
  },
  keeps: (v) => (overlap(v.box1, v.box2) > 0 && iou(v.box1, v.box2) < 1) || 'the boxes must overlap without being equal',
};

const nmsOf = (p: P, threshold = p.threshold) => Array.from(run('nms', { boxes: fromData(p.boxes.flat(), [p.boxes.length, 4]), scores: fromData(p.scores, [p.scores.length]) }, { iouThreshold: threshold }).keep.data);

/** Box widths w and shifts d for which a box and its shifted copy have IoU (w − d)/(w + d) = t exactly. */
const AT_THRESHOLD: Record<string, [number, number]> = { '0.2': [3, 2], '0.25': [5, 3], '0.5': [3, 1], '0.6': [4, 1] };

const nmsKind: Kind = {
  name: 'nmsByHand',
  exact: true,
  question: (p) =>
    `Greedy NMS with IoU threshold ${p.threshold} (suppress when IoU > threshold) on boxes ${p.boxes.map((b: number[], i: number) => `#${i} ${fmt(b)} score ${p.scores[i]}`).join('; ')}. Which boxes are kept, in order of decreasing score? (indices)`,
  answer: (p) => nmsOf(p),
  steps(p) {
    const order = p.scores.map((_: number, i: number) => i).sort((i: number, j: number) => p.scores[j] - p.scores[i] || i - j);
    const kept: number[] = [];
    const s = [`Visit the boxes by decreasing score: ${order.map((i: number) => '#' + i).join(', ')}.`];
    for (const i of order) {
      // each kept box's IoU with this one, once (the op runs once per pair)
      const ious = kept.map((k) => iou(p.boxes[k], p.boxes[i]));
      const b = ious.findIndex((x) => x > p.threshold);
      const a = ious.findIndex((x) => x === p.threshold);
      const [by, at] = [kept[b], kept[a]]; // undefined where none (index −1)
      if (by === undefined) kept.push(i);
      s.push(by !== undefined ? `#${i}: IoU with #${by} is ${num(ious[b])} > ${p.threshold}: suppressed.` : `#${i}: keep${at !== undefined ? ` (IoU with #${at} is exactly ${p.threshold}, not above it)` : ''}.`);
    }
    return s;
  },
  mistakes(p) {
    const kept = nmsOf(p);
    return [
      { value: nmsOf(p, p.threshold - 1e-12), label: 'suppressed at IoU ≥ threshold (it must be strictly greater)' },
      { value: [...kept].sort((a, b) => a - b), label: 'listed the kept boxes by index, not by decreasing score' },
      { value: p.scores.map((_: number, i: number) => i).filter((i: number) => !kept.includes(i)), label: 'listed the suppressed boxes' },
    ];
  },
  hint: () => 'visit the boxes by decreasing score; keep one unless its IoU with an already kept box is above the threshold',
  vary(rng: Rng, p) {
    const threshold = rng.pick(Object.keys(AT_THRESHOLD));
    const [w, d] = AT_THRESHOLD[threshold];
    const scale = rng.int(1, 2);
    const box = () => {
      const x = rng.int(0, 8);
      const y = rng.int(0, 8);
      return [x, y, x + rng.int(2, 5), y + rng.int(2, 5)];
    };
    const boxes = p.boxes.map(box);
    // one pair exactly at the threshold, so "≥" and ">" differ
    const [x, y, h] = [rng.int(0, 6), rng.int(0, 6), rng.int(2, 4)];
    const i = rng.int(0, boxes.length - 1);
    const j = (i + rng.int(1, boxes.length - 1)) % boxes.length;
    boxes[i] = [x, y, x + w * scale, y + h];
    boxes[j] = [x + d * scale, y, x + (w + d) * scale, y + h];
    const scores = p.scores.map(() => rng.int(10, 99) / 100);
    return { ...p, threshold: Number(threshold), boxes, scores };
  },
  keeps(v, _base, kept) {
    if (new Set(v.scores).size !== v.scores.length) return 'the scores must differ';
    return (kept as number[]).length < v.boxes.length || 'some box must be suppressed';
  },
};

const probs = (p: P) => Array.from(run('softmax', { x: fromData(p.scores, [1, p.scores.length]) }, {}).y.data);

const softmaxKind: Kind = {
  name: 'softmaxCrossEntropy',
  exact: false,
  question: (p) => `Scores ${fmt(p.scores)}, true class ${p.target} (0-based). ${p.quantity === 'loss' ? 'What is the cross-entropy loss L = −Σ t_i log p_i (natural log, p the softmax probabilities)?' : 'What are the softmax probabilities?'}`,
  answer(p) {
    if (p.quantity === 'loss') return run('crossEntropy', { logits: fromData(p.scores, [1, p.scores.length]), target: fromData([p.target], [1]) }, {}).loss.data[0];
    return probs(p);
  },
  steps(p) {
    const e = p.scores.map((v: number) => Math.exp(v));
    const s = sum(e);
    const pr = probs(p);
    return [`e^scores = ${fmt(e)}, sum ${num(s)}.`, `p = e^score / sum = ${fmt(pr)}.`, ...(p.quantity === 'loss' ? [`t is one-hot on class ${p.target}, so L = −ln p_${p.target} = −ln ${num(pr[p.target])} = ${num(-Math.log(pr[p.target]))}.`] : [])];
  },
  mistakes(p) {
    const pr = probs(p);
    if (p.quantity !== 'loss') return [{ value: p.scores.map((v: number) => v / sum(p.scores)), label: 'normalised the scores without exponentiating them' }];
    const m: WrongAnswer[] = [
      { value: -Math.log10(pr[p.target]), label: 'used log base 10 (cross-entropy uses the natural log)' },
      { value: -Math.log2(pr[p.target]), label: 'used log base 2 (cross-entropy uses the natural log)' },
      { value: Math.log(pr[p.target]), label: 'left out the minus sign (the loss is −Σ t_i log p_i, never negative)' },
    ];
    pr.forEach((q, j) => j !== p.target && m.push({ value: -Math.log(q), id: 'wrong-class', label: `took class ${j}’s probability; the loss uses the true class ${p.target}` }));
    return m;
  },
  hint: (p) => (p.quantity === 'loss' ? 'softmax the scores, then L = −ln of the true class’s probability' : 'p_i = e^(s_i) / Σ_j e^(s_j)'),
  vary: (rng, p) => ({ ...p, scores: p.scores.map(() => rng.int(-30, 60) / 10), target: rng.int(0, p.scores.length - 1) }),
};

export const DETECTION_KINDS: Kind[] = [iouKind, nmsKind, softmaxKind];
