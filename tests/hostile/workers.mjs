// Allocates 800 MB in worker threads, whose heaps V8's --max-old-space-size does not cover.
import { Worker } from 'node:worker_threads';
import { relu } from './relu.mjs';
export { relu };
export async function conv2d() {
  const code = 'const a = []; for (let i = 0; i < 25; i++) a.push(new Float64Array(1 << 20).fill(i)); setInterval(() => a.length, 1000);';
  const ws = Array.from({ length: 4 }, () => new Worker(code, { eval: true }));
  await new Promise((r) => setTimeout(r, 5000));
  for (const w of ws) w.terminate();
  return { shape: [1], data: [0] };
}
