/**
 * Probes: small cases aimed at corners where libraries are known to slip, run by every
 * conformance target next to the fixtures and random cases (written in the catalogue's terms;
 * nothing here knows any particular library).
 */
export const PROBES: { id: string; op: string; inputs: Record<string, { shape: number[]; data: number[] }>; params: Record<string, unknown> }[] = [
  {
    id: 'probe/conv2d-non-square-kernel-int-padding',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 5, 5], data: Array.from({ length: 25 }, (_, i) => i) }, weight: { shape: [1, 1, 1, 3], data: [1, 2, 3] } },
    params: { padding: 1 },
  },
  {
    id: 'probe/conv2d-non-square-stride-int-padding',
    op: 'conv2d',
    inputs: { x: { shape: [1, 1, 5, 5], data: Array.from({ length: 25 }, (_, i) => i) }, weight: { shape: [1, 1, 3, 3], data: [1, 0, -1, 2, 0, -2, 1, 0, -1] } },
    params: { padding: 1, stride: [1, 2] },
  },
  {
    id: 'probe/maxPool2d-all-negative-with-padding',
    op: 'maxPool2d',
    inputs: { x: { shape: [1, 1, 2, 2], data: [-5, -6, -7, -8] } },
    params: { kernelSize: 2, stride: 1, padding: 1 },
  },
  {
    id: 'probe/softmax-large',
    op: 'softmax',
    inputs: { x: { shape: [2, 3], data: [1000, 1001, 1002, -1000, 0, 1000] } },
    params: {},
  },
];

PROBES.push({
  id: 'probe/maxPool2d-very-negative',
  op: 'maxPool2d',
  inputs: { x: { shape: [1, 1, 2, 2], data: [-200000, -300000, -400000, -500000] } },
  params: { kernelSize: 2 },
});
