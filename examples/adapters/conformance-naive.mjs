// A user-written conformance adapter: a "library" whose relu and softmax are naive JavaScript.
// cnn-oracle conformance --target examples/adapters/conformance-naive.mjs
// Inputs are the catalogue's (ndarrays, NCHW, Float64Array data) with params defaults filled in;
// each op returns its outputs keyed by name, as {shape, data} or ndarrays.
const map = (x, f) => ({ shape: x.shape, data: Float64Array.from(x.data, f), stride: undefined });
const nd = (t) => ({ ...t, get: undefined });

export default {
  name: 'naive-js',
  description: 'a naive JavaScript softmax (no max shift) and relu',
  precision: 'float64',
  ops: {
    relu: { run: ({ x }) => ({ y: fromFlat(map(x, (v) => Math.max(0, v))) }) },
    softmax: {
      unsupported: ({ x }, { dim }) => (dim === -1 || dim === x.shape.length - 1 ? undefined : 'only the last dim'),
      run({ x }) {
        const n = x.shape[x.shape.length - 1];
        const out = new Float64Array(x.data.length);
        for (let r = 0; r < x.data.length / n; r++) {
          let s = 0;
          for (let j = 0; j < n; j++) s += Math.exp(x.data[r * n + j]);
          for (let j = 0; j < n; j++) out[r * n + j] = Math.exp(x.data[r * n + j]) / s;
        }
        return { y: fromFlat({ shape: x.shape, data: out }) };
      },
    },
  },
};

// outputs as the registry wants them: ndarray-like {shape, data, stride, offset}
function fromFlat(t) {
  const stride = [];
  let s = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    stride[i] = s;
    s *= t.shape[i];
  }
  return { ...nd(t), stride, offset: 0 };
}
