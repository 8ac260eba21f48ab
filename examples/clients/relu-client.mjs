#!/usr/bin/env node
// A minimal line-protocol client in plain JavaScript (no dependencies): answers relu and
// leakyRelu requests, and says "not implemented" for anything else. Use it as a template for
// any language: read a JSON line, compute, write a JSON line.
//   cnn-oracle grade --command "node examples/clients/relu-client.mjs" --assignment …
import { createInterface } from 'node:readline';

const NONFINITE = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
const num = (v) => (typeof v === 'string' ? NONFINITE[v] : v);
const enc = (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v);

const OPS = {
  relu: ({ x }) => ({ y: { shape: x.shape, data: x.data.map(num).map((v) => (v > 0 || Number.isNaN(v) ? v : 0)) } }),
  leakyRelu: ({ x }, { negativeSlope }) => ({ y: { shape: x.shape, data: x.data.map(num).map((v) => (v >= 0 ? v : v * negativeSlope)) } }),
};

createInterface({ input: process.stdin }).on('line', (line) => {
  const req = JSON.parse(line);
  const fn = OPS[req.op];
  let answer;
  try {
    if (!fn) throw new Error(`${req.op} is not implemented`);
    const outputs = fn(req.inputs, req.params);
    for (const t of Object.values(outputs)) t.data = t.data.map(enc);
    answer = { id: req.id, outputs };
  } catch (e) {
    answer = { id: req.id, error: String(e.message) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
