/**
 * Exercise kinds computed by hand on small numbers: convolution (vector, matrix, one entry,
 * Sobel), convolution as a matrix and transposed convolution as its transpose, batch norm,
 * pooling and unpooling, 1-D transposed convolution, RoI pooling, RoI Align's bilinear sample and
 * the linear classifier Wx + b. Every answer and every wrong answer runs the registry's ops.
 */
import { fromData, type Arr } from '../../tensor.js';
import { fmt, grid, nested, num, randGrid, run, sum, type Answer, type Kind, type P, type WrongAnswer } from './common.js';

function toArr(a: number[] | number[][]): Arr {
  return Array.isArray(a[0]) ? fromData((a as number[][]).flat(), [a.length, (a as number[][])[0].length]) : fromData(a as number[], [a.length]);
}

const convolve = (p: P, o: P = {}) => nested(run('convolve', { a: toArr(p.a), b: toArr(p.b) }, { mode: o.mode ?? p.mode ?? 'full', flip: o.flip ?? p.flip ?? true }).y);

const convolveKind: Kind = {
  name: 'convolveByHand',
  exact: false,
  question: (p) => `Compute ${p.flip === false ? 'the correlation' : 'the convolution'} of a = ${fmt(p.a)} with b = ${fmt(p.b)}${p.mode && p.mode !== 'full' ? `, "${p.mode}" size (zero padding, centred)` : ' (full size)'}.`,
  answer: (p) => convolve(p),
  steps(p) {
    const full = convolve(p, { mode: 'full' });
    return [
      p.flip === false ? 'Correlation slides b over a without flipping: c[x] = Σ_u a[u]·b[u − x + k − 1].' : 'Convolution flips b: c[x] = Σ_u a[u]·b[x − u] (1-based in the notes: c_xy = Σ a_uv b_(x−u+1, y−v+1)).',
      `Full result (size n + k − 1 per axis): ${fmt(full)}.`,
      ...(p.mode === 'same' ? ['"same" keeps a’s size, starting at ⌊(k − 1)/2⌋ of the full result.'] : []),
    ];
  },
  mistakes(p) {
    const m: WrongAnswer[] = [{ value: convolve(p, { flip: !(p.flip ?? true) }), label: p.flip === false ? 'flipped the kernel (that is convolution, not correlation)' : 'did not flip the kernel (that is correlation, what CNN libraries call convolution)' }];
    if (p.mode === 'same') {
      m.push({ value: convolve(p, { mode: 'full' }), label: 'gave the full result (size n + k − 1); the question keeps the input’s size' });
      m.push({ value: convolve(p, { mode: 'valid' }), label: 'gave the "valid" result (only where the kernel fits inside); the question pads to keep the input’s size' });
    }
    return m;
  },
  hint: (p) => (p.mode === 'same' ? 'pad a with zeros, flip b, and slide it over every position of a' : 'flip b, slide it along a and sum the products; the full result has n + k − 1 entries per axis'),
  vary(rng, p) {
    if (Array.isArray(p.a[0])) return { ...p, a: randGrid(rng, 3, 3), b: randGrid(rng, 3, 3, -2, 2) };
    return { ...p, a: Array.from({ length: rng.int(3, 5) }, () => rng.int(-3, 3)), b: Array.from({ length: 3 }, () => rng.int(-2, 3)) };
  },
};

const entryKind: Kind = {
  name: 'convolutionEntry',
  exact: true,
  question: (p) =>
    `Let A = ${fmt(p.a)} (${p.a.length}×${p.a[0].length}) and B = ${fmt(p.b)} (${p.b.length}×${p.b[0].length}). C = A ∗ B is their full convolution, c_xy = Σ_u Σ_v a_uv·b_(x−u+1, y−v+1) with indices from 1. ` +
    (p.quantity === 'size' ? 'What is the size of C (rows×columns)?' : `What is c_${p.x}${p.y} (row ${p.x}, column ${p.y})?`),
  answer(p) {
    const c = convolve(p) as number[][];
    return p.quantity === 'size' ? [c.length, c[0].length] : c[p.x - 1][p.y - 1];
  },
  steps(p) {
    const [n, m, k, l] = [p.a.length, p.a[0].length, p.b.length, p.b[0].length];
    if (p.quantity === 'size') return [`An n×m matrix convolved with a k×l one is (n + k − 1)×(m + l − 1) = (${n} + ${k} − 1)×(${m} + ${l} − 1).`];
    const terms: string[] = [];
    const vals: number[] = [];
    for (let u = 1; u <= n; u++)
      for (let v = 1; v <= m; v++) {
        const [i, j] = [p.x - u + 1, p.y - v + 1];
        if (i >= 1 && i <= k && j >= 1 && j <= l) {
          terms.push(`a${u}${v}·b${i}${j}`);
          vals.push(p.a[u - 1][v - 1] * p.b[i - 1][j - 1]);
        }
      }
    const prods: string[] = [];
    for (let u = 1; u <= n; u++)
      for (let v = 1; v <= m; v++) {
        const [i, j] = [p.x - u + 1, p.y - v + 1];
        if (i >= 1 && i <= k && j >= 1 && j <= l) prods.push(`(${p.a[u - 1][v - 1]})·(${p.b[i - 1][j - 1]})`);
      }
    return [`u and v run over the legal subscripts: c_${p.x}${p.y} = ${terms.join(' + ')}.`, `= ${prods.join(' + ')} = ${sum(vals)}.`];
  },
  mistakes(p) {
    const [n, m, k, l] = [p.a.length, p.a[0].length, p.b.length, p.b[0].length];
    if (p.quantity === 'size')
      return [
        { value: [n + k, m + l], label: 'forgot the − 1 (the full size is n + k − 1)' },
        { value: [Math.max(n, k), Math.max(m, l)], label: 'gave the size of the larger matrix (that is the "same" size; C = A ∗ B is full)' },
        { value: [Math.abs(n - k) + 1, Math.abs(m - l) + 1], label: 'gave the "valid" size (only where one fits inside the other)' },
      ];
    const c = convolve(p) as number[][];
    const corr = convolve(p, { flip: false }) as number[][];
    const at = (g: number[][], x: number, y: number) => g[x - 1]?.[y - 1];
    const out: WrongAnswer[] = [];
    const push = (v: number | undefined, label: string) => v !== undefined && out.push({ value: v, label });
    push(at(corr, p.x, p.y), 'did not flip B (that is the correlation entry)');
    push(at(c, p.x + 1, p.y + 1), 'counted the indices from 0 (the notes count from 1)');
    push(at(c, p.y, p.x), 'swapped the row and the column');
    return out;
  },
  hint: (p) => (p.quantity === 'size' ? 'the full convolution has one entry for every shift at which A and B overlap' : 'list the pairs (u, v) for which b_(x−u+1, y−v+1) exists, then add a_uv times it'),
  vary(rng, p) {
    const a = randGrid(rng, rng.int(2, 4), rng.int(2, 4), -2, 3);
    const b = randGrid(rng, rng.int(3, 5), rng.int(3, 6), 0, 9);
    return { ...p, a, b, x: rng.int(2, a.length + b.length - 2), y: rng.int(2, a[0].length + b[0].length - 2) };
  },
};

/**
 * The conv matrix X of a 1-D conv (y = X·a): column j is the conv of the j-th unit vector. One
 * conv1d over the batch of all n unit vectors (sample j of the output is column j).
 */
function convMatrix(p: P, o: P = {}): number[][] {
  const weight = fromData(o.flip ? [...p.kernel].reverse() : p.kernel, [1, 1, p.kernel.length]);
  const eye = fromData(Array.from({ length: p.n * p.n }, (_, t) => (t % (p.n + 1) === 0 ? 1 : 0)), [p.n, 1, p.n]);
  const cols = (nested(run('conv1d', { x: eye, weight }, { stride: o.stride ?? p.stride, padding: o.pad ?? p.pad }).y) as number[][][]).map((c) => c[0]);
  return cols[0].map((_, i) => cols.map((c) => c[i]));
}

const transposedLength = (p: P) => (p.a.length - 1) * p.stride - 2 * p.pad + p.kernel.length;

const convMatrixKind: Kind = {
  name: 'convAsMatrix',
  exact: true,
  question(p) {
    const conv = `the 1-D convolution of an input of length ${p.n} with the kernel ${fmt(p.kernel)} (as CNN layers compute it: not flipped), stride ${p.stride}, padding ${p.pad}`;
    if (p.quantity === 'matrix') return `Write ${conv} as a matrix multiply y = X·a. What is X (one row per output, one column per input)?`;
    return `Transposed convolution multiplies by the transpose of the conv matrix X of ${conv}. With the same kernel, stride and padding, and output padding ${p.n - transposedLength(p)} so that the output has length ${p.n}, what is the transposed convolution of ${fmt(p.a)}?`;
  },
  answer(p) {
    if (p.quantity === 'matrix') return convMatrix(p);
    const weight = fromData(p.kernel, [1, 1, p.kernel.length]);
    return nested(run('convTranspose1d', { x: fromData(p.a, [1, 1, p.a.length]), weight }, { stride: p.stride, padding: p.pad, outputPadding: p.n - transposedLength(p) }).y, 1);
  },
  steps(p) {
    const X = convMatrix(p);
    if (p.quantity === 'matrix') return [`The output has ⌊(${p.n} + 2·${p.pad} − ${p.kernel.length})/${p.stride}⌋ + 1 = ${X.length} entries.`, `Row i holds the kernel starting at input i·${p.stride} − ${p.pad} (entries falling on the padding drop out): ${fmt(X)}.`];
    const Xt = X[0].map((_, j) => X.map((r) => r[j]));
    return [`X = ${fmt(X)}, so Xᵀ = ${fmt(Xt)}.`, `Xᵀ·${fmt(p.a)}: each input value stamps the kernel, ${p.stride} apart, summed where the copies overlap.`];
  },
  mistakes(p) {
    if (p.quantity === 'matrix')
      return [
        { value: convMatrix(p, { flip: true }), label: 'flipped the kernel (CNN layers correlate: the kernel is not flipped)' },
        { value: convMatrix(p, { pad: 0 }), label: 'forgot the padding' },
        { value: convMatrix(p, { stride: 1 }), label: 'ignored the stride (each row moves the kernel by the stride)' },
      ];
    const full = this.answer(p) as number[];
    const weight = fromData([...p.kernel].reverse(), [1, 1, p.kernel.length]);
    return [
      { value: full.slice(0, transposedLength(p)), label: 'forgot the output padding (Xᵀ has one row per input of the conv)' },
      { value: nested(run('convTranspose1d', { x: fromData(p.a, [1, 1, p.a.length]), weight }, { stride: p.stride, padding: p.pad, outputPadding: p.n - transposedLength(p) }).y, 1), label: 'flipped the kernel' },
    ];
  },
  hint: (p) => (p.quantity === 'matrix' ? 'row i of X holds the kernel at the input positions the i-th output reads' : 'write X first, transpose it, and multiply'),
  vary(rng, p) {
    const n = rng.int(4, 7);
    const kernel = Array.from({ length: 3 }, () => rng.int(-2, 4));
    const pad = rng.int(0, 1);
    const m = Math.floor((n + 2 * pad - 3) / p.stride) + 1;
    return { ...p, n, kernel, pad, a: Array.from({ length: m }, () => rng.int(-3, 3)) };
  },
  keeps: (v) => (v.a.length >= 2 && v.n - transposedLength(v) < v.stride && v.n - transposedLength(v) >= 0) || 'the transpose needs at least two inputs and an output padding below the stride',
};

/** Batch-norm outputs with given statistics: γ·(x − μ)/den + β, per value. */
const bnWith = (p: P, mu: (s: number) => number, den: (s: number) => number, g = p.gamma, beta = p.beta) =>
  p.maps.map((m: number[][], s: number) => m.map((row) => row.map((x) => (g * (x - mu(s))) / den(s) + beta)));

function bnStats(p: P) {
  const vals: number[] = p.maps.flat(2);
  const n = vals.length;
  const mu = sum(vals) / n;
  const v = sum(vals.map((x) => (x - mu) ** 2)) / n;
  return { vals, n, mu, v };
}

const bnKind: Kind = {
  name: 'batchNormByHand',
  exact: false,
  question: (p) =>
    `Batch normalisation in training mode, one channel, a batch of ${p.maps.length} maps: ${p.maps.map(fmt).join(' and ')}; γ = ${p.gamma}, β = ${p.beta}, ε = ${p.eps}. ${p.quantity === 'mean' ? 'What is the batch mean μ?' : p.quantity === 'variance' ? 'What is the batch variance σ²?' : 'What is the output (same layout as the input)?'}`,
  answer(p) {
    const N = p.maps.length;
    const [H, W] = [p.maps[0].length, p.maps[0][0].length];
    const r = run('batchNorm', { x: fromData(p.maps.flat(2), [N, 1, H, W]), weight: fromData([p.gamma], [1]), bias: fromData([p.beta], [1]) }, { training: true, eps: p.eps });
    if (p.quantity === 'mean') return r.batchMean.data[0];
    if (p.quantity === 'variance') return r.batchVar.data[0];
    return nested(fromData(r.y.data, [N, H, W]));
  },
  steps(p) {
    const { vals, mu, v } = bnStats(p);
    const s = [`μ = Σx / n over all ${vals.length} values of the channel = ${sum(vals)}/${vals.length} = ${num(mu)}.`];
    if (p.quantity === 'mean') return s;
    s.push(`σ² = Σ(x − μ)² / n = ${num(sum(vals.map((x) => (x - mu) ** 2)))}/${vals.length} = ${num(v)} (the biased variance: divide by n, not n − 1).`);
    if (p.quantity === 'y') s.push(`y = γ·(x − μ)/√(σ² + ε) + β with √(${num(v)} + ${p.eps}) = ${num(Math.sqrt(v + p.eps))}: y = ${p.gamma}·(x − ${num(mu)})/${num(Math.sqrt(v + p.eps))} + ${p.beta}.`);
    return s;
  },
  mistakes(p) {
    const { vals, n, mu, v } = bnStats(p);
    if (p.quantity === 'mean') return [{ value: sum(p.maps[0].flat()) / p.maps[0].flat().length, label: 'took the mean of the first sample only (batch norm pools the whole batch)' }];
    if (p.quantity === 'variance')
      return [
        { value: (v * n) / (n - 1), label: 'used the unbiased variance (n − 1); batch norm divides by n' },
        { value: Math.sqrt(v), label: 'gave the standard deviation σ, not the variance σ²' },
        { value: sum(vals.map((x) => Math.abs(x - mu))) / n, label: 'averaged |x − μ| instead of (x − μ)²' },
      ];
    const N = p.maps.length;
    const [H, W] = [p.maps[0].length, p.maps[0][0].length];
    const perSample = run('instanceNorm', { x: fromData(p.maps.flat(2), [1, N, H, W]), weight: fromData(new Array(N).fill(p.gamma), [N]), bias: fromData(new Array(N).fill(p.beta), [N]) }, { eps: p.eps });
    const sd = Math.sqrt(v + p.eps);
    return [
      { value: bnWith(p, () => mu, () => Math.sqrt((v * n) / (n - 1) + p.eps)), label: 'used the unbiased variance (n − 1); batch norm divides by n' },
      { value: nested(fromData(perSample.y.data, [N, H, W])), label: 'normalised each sample with its own mean and variance (that is instance norm: batch norm pools the statistics over the batch)' },
      { value: bnWith(p, () => mu, () => sd, 1), label: 'forgot to multiply by γ' },
      { value: bnWith(p, () => mu, () => sd, p.gamma, 0), label: 'forgot to add β' },
      { value: bnWith(p, () => mu, () => v + p.eps), label: 'divided by the variance instead of its square root' },
      {
        value: bnWith(p, () => mu, () => sd + p.beta, p.gamma, 0),
        id: 'deck-001-formula',
        slip: true,
        label: 'used the formula y = γ(x − μ)/(σ + β) of deck 001’s BatchNorm2D slide, which is a slip: β is added after scaling, y = γ·(x − μ)/√(σ² + ε) + β',
      },
    ];
  },
  hint: (p) => (p.quantity === 'mean' ? 'average every value of the channel over the whole batch' : p.quantity === 'variance' ? 'σ² = Σ(x − μ)²/n over every value of the channel in the batch' : 'y = γ·(x − μ)/√(σ² + ε) + β, with μ and σ² over the whole batch'),
  vary: (rng, p) => ({ ...p, maps: p.maps.map(() => randGrid(rng, 2, 2, 0, 9)), gamma: rng.pick([0.5, 1.5, 2, 3]), beta: rng.pick([-1, 0.5, 1, 2]) }),
  keeps: (v) => v.beta !== 0 || 'a variant with β = 0 cannot tell a forgotten β',
};

const pool = (p: P, type: string, stride = p.stride) => nested(run(type === 'avg' ? 'avgPool2d' : 'maxPool2d', { x: grid(p.map) }, { kernelSize: p.k, stride }).y, 2);

const poolByHandKind: Kind = {
  name: 'poolByHand',
  exact: false,
  question: (p) => `${p.type === 'avg' ? 'Average' : 'Max'}-pool the map ${fmt(p.map)} with a ${p.k}×${p.k} window and stride ${p.stride}.`,
  answer: (p) => pool(p, p.type),
  steps: (p) => [`Each output is the ${p.type === 'avg' ? 'mean' : 'maximum'} of one ${p.k}×${p.k} window, windows ${p.stride} apart: ⌊(${p.map.length} − ${p.k})/${p.stride}⌋ + 1 = ${Math.floor((p.map.length - p.k) / p.stride) + 1} per axis.`],
  mistakes: (p) => [
    { value: pool(p, p.type === 'avg' ? 'max' : 'avg'), label: p.type === 'avg' ? 'took the maximum instead of the mean' : 'took the mean instead of the maximum' },
    { value: pool(p, p.type, 1), label: 'moved the window by 1 (the stride is the step between windows)' },
  ],
  hint: (p) => `split the map into ${p.k}×${p.k} windows ${p.stride} apart and take the ${p.type === 'avg' ? 'mean' : 'maximum'} of each`,
  vary: (rng, p) => ({ ...p, map: randGrid(rng, 4, 4) }),
};

const UNPOOL: Record<string, string> = {
  nearest: 'nearest-neighbour unpooling (each value copied into its 2×2 block)',
  'bed-of-nails': '"bed of nails" unpooling (each value in the top-left cell of its 2×2 block, zeros elsewhere)',
  max: 'max unpooling, the values going back to the positions remembered by the max pooling',
};

/** Each way of unpooling, as the mistake of doing it where another was asked for. */
const UNPOOL_MISTAKE: Record<string, string> = {
  nearest: 'copied each value into its whole block (nearest-neighbour unpooling)',
  'bed-of-nails': 'put each value in the top-left cell of its block ("bed of nails")',
  max: 'put each value back at the position the max pooling remembered (max unpooling)',
};

function unpool(p: P, mode: string): Answer {
  const x = grid(p.map);
  if (mode === 'nearest') return nested(run('upsample2d', { x }, { scaleFactor: 2 }).y, 2);
  const idx = mode === 'max' ? p.positions.flat() : [0, 2, 8, 10];
  return nested(run('maxUnpool2d', { x, indices: fromData(idx, [1, 1, 2, 2]) }, { kernelSize: 2 }).y, 2);
}

const unpoolKind: Kind = {
  name: 'unpoolByHand',
  exact: true,
  question: (p) => `Unpool the 2×2 map ${fmt(p.map)} to 4×4 by ${UNPOOL[p.mode]}${p.mode === 'max' ? `: ${fmt(p.positions)} (flat index within the 4×4 map)` : ''}.`,
  answer: (p) => unpool(p, p.mode),
  steps: (p) => [p.mode === 'nearest' ? 'Copy every value into the four cells of its block.' : p.mode === 'max' ? 'Flat index i is row ⌊i/4⌋, column i mod 4; every other cell is 0.' : 'Put every value at the top-left cell of its block; all other cells are 0.'],
  mistakes: (p) =>
    Object.keys(UNPOOL)
      .filter((m) => m !== p.mode)
      .map((m) => ({ value: unpool(p, m), label: UNPOOL_MISTAKE[m] })),
  hint: (p) => `the output is 4×4; ${UNPOOL[p.mode]}`,
  vary(rng, p) {
    const map = randGrid(rng, 2, 2, 1, 9);
    const positions = [0, 1].map((i) => [0, 1].map((j) => (2 * i + rng.int(0, 1)) * 4 + 2 * j + rng.int(0, 1)));
    return { ...p, map, positions };
  },
};

const transposed1d = (p: P, outputPadding = p.outputPadding ?? 0) =>
  nested(run('convTranspose1d', { x: fromData(p.input, [1, 1, p.input.length]), weight: fromData(p.kernel, [1, 1, p.kernel.length]) }, { stride: p.stride, outputPadding }).y, 1);

const transposedKind: Kind = {
  name: 'transposedConv1d',
  exact: false,
  question: (p) => `A 1-D transposed convolution: input ${fmt(p.input)}, kernel ${fmt(p.kernel)}, stride ${p.stride}, padding 0${p.outputPadding ? `, output padding ${p.outputPadding}` : ''}. What is the output?`,
  answer: (p) => transposed1d(p),
  steps: (p) => [
    `Each input value stamps a copy of the kernel scaled by it; copies start ${p.stride} apart and are summed where they overlap (equivalently: multiply by the transpose of the strided conv's matrix).`,
    `Symbolically, input [a, b] and kernel [x, y, z] with stride 2 give [ax, ay, az + bx, by, bz]${p.outputPadding ? ' and the output padding adds a 0' : ''}.`,
    `Length: (n − 1)·s + k${p.outputPadding ? ' + output padding' : ''} = (${p.input.length} − 1)·${p.stride} + ${p.kernel.length}${p.outputPadding ? ` + ${p.outputPadding}` : ''} = ${(p.input.length - 1) * p.stride + p.kernel.length + (p.outputPadding ?? 0)}.`,
  ],
  mistakes(p) {
    const n = (p.input.length - 1) * p.stride + p.kernel.length + (p.outputPadding ?? 0);
    const overwrite = new Array(n).fill(0);
    p.input.forEach((v: number, i: number) => p.kernel.forEach((w: number, k: number) => (overwrite[i * p.stride + k] = v * w)));
    const m: WrongAnswer[] = [{ value: overwrite, label: 'overwrote the overlapping copies instead of summing them' }];
    if (p.outputPadding) m.push({ value: transposed1d(p, 0), label: 'forgot the output padding' });
    return m;
  },
  hint: () => 'stamp a scaled copy of the kernel for every input value, the stride apart, and add where they overlap',
  vary: (rng, p) => ({ ...p, input: Array.from({ length: p.input.length }, () => rng.int(1, 5)), kernel: Array.from({ length: p.kernel.length }, () => rng.int(-2, 4)) }),
};

const roiPool = (p: P, box = p.box) => nested(run('roiPool', { x: grid(p.map), boxes: fromData([0, ...box], [1, 5]) }, { outputSize: p.out }).y, 2);

const roiPoolKind: Kind = {
  name: 'roiPoolByHand',
  exact: false,
  question: (p) => `RoI max pooling (Fast R-CNN / torchvision: corners rounded, inclusive, so width x2 − x1 + 1) of the region x ${p.box[0]}…${p.box[2]}, y ${p.box[1]}…${p.box[3]} of the map ${fmt(p.map)} into ${p.out}×${p.out} bins.`,
  answer: (p) => roiPool(p),
  steps(p) {
    const w = p.box[2] - p.box[0] + 1;
    const h = p.box[3] - p.box[1] + 1;
    return [`Region ${w} wide and ${h} high; bins of ${num(w / p.out)}×${num(h / p.out)} cells: bin i spans ⌊i·size⌋ … ⌈(i+1)·size⌉ (exclusive), so uneven bins overlap.`, 'Take the maximum of each bin.'];
  },
  mistakes: (p) => [{ value: roiPool(p, [p.box[0], p.box[1], p.box[2] - 1, p.box[3] - 1]), label: 'left out the +1 (the corners are inclusive)' }],
  hint: () => 'the region is x2 − x1 + 1 wide; split it into bins of ⌊i·size⌋ … ⌈(i + 1)·size⌉ and take each bin’s maximum',
  vary: (rng, p) => ({ ...p, map: randGrid(rng, p.map.length, p.map[0].length) }),
};

/** RoI Align's bilinear sample at (x, y): a 1×1 RoI centred there, one sample (torchvision, aligned = false). */
const sample = (map: number[][], x: number, y: number) => run('roiAlign', { x: grid(map), boxes: fromData([0, x - 0.5, y - 0.5, x + 0.5, y + 0.5], [1, 5]) }, { outputSize: 1, samplingRatio: 1, aligned: false }).y.data[0];

const roiAlignKind: Kind = {
  name: 'roiAlignSample',
  exact: false,
  question: (p) =>
    `RoI Align samples a feature map between its cells by bilinear interpolation: f(x, y) = Σ f_ij·max(0, 1 − |x − x_i|)·max(0, 1 − |y − y_j|), the cell in column i and row j (from 0) sitting at (x_i, y_j) = (i, j). On the map ${fmt(p.map)}, what is f(${p.x}, ${p.y})?`,
  answer: (p) => sample(p.map, p.x, p.y),
  steps(p) {
    const [i, j] = [Math.floor(p.x), Math.floor(p.y)];
    const [fx, fy] = [p.x - i, p.y - j];
    const f = (r: number, c: number) => p.map[r][c];
    return [
      `The four neighbours: columns ${i}, ${i + 1} and rows ${j}, ${j + 1}, with weights 1 − ${num(fx)} = ${num(1 - fx)} and ${num(fx)} across, 1 − ${num(fy)} = ${num(1 - fy)} and ${num(fy)} down.`,
      `f = ${f(j, i)}·${num(1 - fx)}·${num(1 - fy)} + ${f(j, i + 1)}·${num(fx)}·${num(1 - fy)} + ${f(j + 1, i)}·${num(1 - fx)}·${num(fy)} + ${f(j + 1, i + 1)}·${num(fx)}·${num(fy)} = ${num(sample(p.map, p.x, p.y))}.`,
    ];
  },
  mistakes(p) {
    const m: WrongAnswer[] = [];
    if (p.y <= p.map[0].length - 1 && p.x <= p.map.length - 1) m.push({ value: sample(p.map, p.y, p.x), label: 'swapped x and y (x runs along a row, over the columns)' });
    m.push({ value: p.map[Math.round(p.y)][Math.round(p.x)], label: 'took the nearest cell (that is RoI pooling’s snapping; RoI Align interpolates)' });
    const [i, j] = [Math.floor(p.x), Math.floor(p.y)];
    m.push({ value: sample(p.map, 2 * i + 1 - p.x, 2 * j + 1 - p.y), label: 'weighted each neighbour by its distance instead of 1 − distance' });
    return m;
  },
  hint: () => 'weight the four surrounding cells by (1 − |x − x_i|)(1 − |y − y_j|) and add',
  vary(rng, p) {
    const map = randGrid(rng, p.map.length, p.map[0].length);
    const at = (n: number) => rng.int(0, n - 2) + rng.pick([0.25, 0.5, 0.75]);
    return { ...p, map, x: at(p.map[0].length), y: at(p.map.length) };
  },
};

const linear = (p: P, bias = p.b) => Array.from(run('linear', { x: fromData(p.x, [1, p.x.length]), weight: fromData(p.W.flat(), [p.W.length, p.W[0].length]), bias: fromData(bias, [bias.length]) }, {}).y.data);

const linearKind: Kind = {
  name: 'linearScores',
  exact: false,
  question: (p) => `A linear classifier scores an image x = ${fmt(p.x)} (its pixels as a column) with f(x) = Wx + b, W = ${fmt(p.W)}, b = ${fmt(p.b)}. What are the ${p.W.length} class scores?`,
  answer: (p) => linear(p),
  steps: (p) => p.W.map((row: number[], i: number) => `s${i + 1} = ${row.map((w, j) => `(${w})·${p.x[j]}`).join(' + ')} + (${p.b[i]}) = ${num(sum(row.map((w, j) => w * p.x[j])) + p.b[i])}`),
  mistakes: (p) => [
    { value: linear(p, p.b.map(() => 0)), label: 'forgot to add b' },
    { value: linear(p, p.b.map((v: number) => -v)), label: 'subtracted b' },
  ],
  hint: () => 'score i is row i of W dotted with x, plus b_i',
  vary: (rng, p) => ({ ...p, W: p.W.map((r: number[]) => r.map(() => rng.int(-10, 10) / 10)), x: p.x.map(() => rng.int(0, 255)), b: p.b.map(() => rng.int(-20, 20) / 10) }),
};

export const BY_HAND_KINDS: Kind[] = [convolveKind, entryKind, convMatrixKind, bnKind, poolByHandKind, unpoolKind, transposedKind, roiPoolKind, roiAlignKind, linearKind];
