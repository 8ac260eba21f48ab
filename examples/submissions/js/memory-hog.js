// Allocates without bound in maxPool2d.
export * from './correct.js';
export function maxPool2d() {
  const hoard = [];
  for (;;) hoard.push(new Float64Array(1 << 20).fill(1));
}
