// An instructor adapter: the grader calls adapter[op](studentModule, inputs, params) with the
// catalogue's calling convention (ndarray inputs, params with defaults) and expects the catalogue's
// outputs back. Here it maps onto a student's conv2d(x, w, b, stride, pad) for one image, and
// relu on a flat array.
const nest = (a, shape, off = 0) =>
  shape.length === 1 ? Array.from(a.data.slice(off, off + shape[0])) : Array.from({ length: shape[0] }, (_, i) => nest(a, shape.slice(1), off + i * shape.slice(1).reduce((x, y) => x * y, 1)));

export function conv2d(student, { x, weight, bias }, { stride, padding }) {
  const [N, C, H, W] = x.shape;
  const images = [];
  for (let n = 0; n < N; n++) images.push(student.conv2d(nest(x, [C, H, W], n * C * H * W), nest(weight, weight.shape), bias && Array.from(bias.data), stride, padding));
  return images; // nested [N][O][Ho][Wo]
}

export function relu(student, { x }) {
  return { shape: x.shape, data: student.relu(Array.from(x.data)) };
}
