/**
 * `npm run bench:protocol`: what the line protocol costs for a large tensor, JSON numbers against
 * the base64 extension. One 1×64×112×112 float64 tensor (802,816 values, float32-valued as a
 * student's NumPy float32 arrays are) is written as a request line and read back, the way the
 * grader writes an input and the runner (or the Python helper) reads it; interleaved rounds,
 * medians with the 25–75 % range.
 */
import { fromBase64, jsonNumber, jsonValue, toBase64 } from '../src/sandbox/runner/wire.js';

const n = 64 * 112 * 112;
const values = new Float64Array(n);
let s = 12345;
for (let i = 0; i < n; i++) {
  s = (s * 1103515245 + 12345) % 2 ** 31;
  values[i] = Math.fround((s / 2 ** 31) * 8 - 4);
}

const ways = {
  json: () => {
    const line = JSON.stringify({ shape: [1, 64, 112, 112], dtype: 'float64', data: Array.from(values, jsonValue) });
    const back = JSON.parse(line) as { data: unknown[] };
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = jsonNumber(back.data[i]);
    return line.length;
  },
  base64: () => {
    const line = JSON.stringify({ shape: [1, 64, 112, 112], dtype: 'float64', base64: toBase64(values, 'float64') });
    const back = JSON.parse(line) as { base64: string };
    fromBase64(back.base64, 'float64', n);
    return line.length;
  },
};

const times: Record<string, number[]> = { json: [], base64: [] };
const bytes: Record<string, number> = {};
for (let round = 0; round < 15; round++) {
  for (const [name, f] of Object.entries(ways)) {
    const t0 = performance.now();
    bytes[name] = f();
    times[name].push(performance.now() - t0);
  }
}
const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))];
console.log(`protocol, one 1×64×112×112 float64 tensor written and read back (${new Date().toISOString().slice(0, 16)}Z, 15 interleaved rounds)`);
for (const name of Object.keys(ways)) {
  console.log(`  ${name.padEnd(7)} ${(bytes[name] / 1e6).toFixed(1).padStart(5)} MB a line, ${q(times[name], 0.5).toFixed(0).padStart(4)} ms median (${q(times[name], 0.25).toFixed(0)}–${q(times[name], 0.75).toFixed(0)})`);
}
console.log(`  base64 is ${(q(times.json, 0.5) / q(times.base64, 0.5)).toFixed(1)}× faster and ${(bytes.json / bytes.base64).toFixed(1)}× smaller`);
