// A deliberately careless conformance adapter (tests/conformance.test.ts): some ops answer in every
// form the catalogue allows, others answer nonsense. Each nonsense answer must be reported naming
// the op and the case, never as "internal error: Cannot read properties…".
const nest = (data, shape) => (shape.length === 0 ? data[0] : Array.from({ length: shape[0] }, (_, i) => nest(data.slice((i * data.length) / shape[0], ((i + 1) * data.length) / shape[0]), shape.slice(1))));
const flat = (x) => Array.from({ length: x.size }, (_, i) => {
  let off = x.offset, r = i;
  for (let k = x.shape.length - 1; k >= 0; k--) { off += (r % x.shape[k]) * x.stride[k]; r = Math.floor(r / x.shape[k]); }
  return x.data[off];
});

export default {
  name: 'careless',
  precision: 'float64',
  ops: {
    // good answers, each in another form
    relu: { run: ({ x }) => nest(flat(x).map((v) => Math.max(0, v)), x.shape) }, // a nested array
    leakyRelu: { run: ({ x }, { negativeSlope }) => ({ y: { shape: x.shape, data: Float64Array.from(flat(x), (v) => (v >= 0 ? v : negativeSlope * v)) } }) }, // keyed {shape, data}
    tanh: { run: ({ x }) => ({ shape: x.shape.slice(), stride: x.shape.map((_, k) => x.shape.slice(k + 1).reduce((a, b) => a * b, 1)), offset: 0, data: Float64Array.from(flat(x), Math.tanh) }) }, // an ndarray
    // bad answers
    sigmoid: { run: () => undefined },
    softmax: { run: () => ({ wrong: 1 }) },
    logSoftmax: { run: () => 'a string' },
    conv2d: { run: () => { throw new Error('conv2d is not ready'); } },
    linear: { run: () => { throw 'a thrown string'; } },
    maxPool2d: { run: () => ({ y: [[1, 2], [3]] }) },
    avgPool2d: { unsupported: () => { throw new Error('boom'); }, run: () => 0 },
  },
};
