// Loops forever in conv2d; everything else is right.
export * from './correct.js';
export function conv2d() {
  for (;;);
}
