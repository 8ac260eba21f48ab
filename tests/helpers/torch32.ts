/**
 * torchvision 0.14's CPU kernels and PyTorch 1.13's nearest index, transcribed into TypeScript
 * with every operation rounded to float32 (Math.fround) or float64 (identity): stand-ins for a
 * correct float32 library in the tests of set-valued expectations. Written from the C++ sources
 * (roi_align_kernel.cpp, roi_pool_kernel.cpp, UpSample.h), not from the reference.
 */
import type { Arr } from '../../src/tensor.js';
import { fromData } from '../../src/tensor.js';

export type Fr = (x: number) => number;
export const f32: Fr = Math.fround;
export const f64: Fr = (x) => x;

export interface RoiAlignArgs {
  ph: number;
  pw: number;
  spatialScale: number;
  samplingRatio: number;
  aligned: boolean;
}

/** torchvision roi_align_forward_kernel_impl in precision fr. */
export function roiAlignT(x: Arr, rois: Arr, a: RoiAlignArgs, fr: Fr = f32): Arr {
  const [, C, H, W] = x.shape;
  const K = rois.shape[0];
  const xd = Array.from(x.data as ArrayLike<number>, fr);
  const r = Array.from(rois.data as ArrayLike<number>, fr);
  const scale = fr(a.spatialScale);
  const off = a.aligned ? 0.5 : 0;
  const out = new Float64Array(K * C * a.ph * a.pw);
  for (let k = 0; k < K; k++) {
    const b = Math.trunc(r[5 * k]);
    const sw = fr(fr(r[5 * k + 1] * scale) - off);
    const sh = fr(fr(r[5 * k + 2] * scale) - off);
    const ew = fr(fr(r[5 * k + 3] * scale) - off);
    const eh = fr(fr(r[5 * k + 4] * scale) - off);
    let rw = fr(ew - sw);
    let rh = fr(eh - sh);
    if (!a.aligned) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bh = fr(rh / a.ph);
    const bw = fr(rw / a.pw);
    const gh = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(fr(rh / a.ph));
    const gw = a.samplingRatio > 0 ? a.samplingRatio : Math.ceil(fr(rw / a.pw));
    const count = Math.max(gh * gw, 1);
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * H * W;
      for (let i = 0; i < a.ph; i++)
        for (let j = 0; j < a.pw; j++) {
          let acc = 0;
          for (let iy = 0; iy < gh; iy++) {
            const yy = fr(fr(sh + fr(i * bh)) + fr(fr(fr(iy + 0.5) * bh) / gh));
            for (let ix = 0; ix < gw; ix++) {
              const xx = fr(fr(sw + fr(j * bw)) + fr(fr(fr(ix + 0.5) * bw) / gw));
              let y = yy;
              let xv = xx;
              if (y < -1 || y > H || xv < -1 || xv > W) continue;
              if (y <= 0) y = 0;
              if (xv <= 0) xv = 0;
              let yl = Math.trunc(y);
              let xl = Math.trunc(xv);
              let yh: number;
              let xh: number;
              if (yl >= H - 1) {
                yh = yl = H - 1;
                y = yl;
              } else yh = yl + 1;
              if (xl >= W - 1) {
                xh = xl = W - 1;
                xv = xl;
              } else xh = xl + 1;
              const ly = fr(y - yl);
              const lx = fr(xv - xl);
              const hy = fr(1 - ly);
              const hx = fr(1 - lx);
              const w1 = fr(hy * hx);
              const w2 = fr(hy * lx);
              const w3 = fr(ly * hx);
              const w4 = fr(ly * lx);
              const v = fr(fr(fr(fr(w1 * xd[base + yl * W + xl]) + fr(w2 * xd[base + yl * W + xh])) + fr(w3 * xd[base + yh * W + xl])) + fr(w4 * xd[base + yh * W + xh]));
              acc = fr(acc + v);
            }
          }
          out[((k * C + c) * a.ph + i) * a.pw + j] = fr(acc / count);
        }
    }
  }
  return fromData(out, [K, C, a.ph, a.pw]);
}

/** C's round(): half away from zero. */
const cRound = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** torchvision roi_pool_forward_kernel_impl in precision fr. */
export function roiPoolT(x: Arr, rois: Arr, ph: number, pw: number, spatialScale: number, fr: Fr = f32): Arr {
  const [, C, H, W] = x.shape;
  const K = rois.shape[0];
  const xd = Array.from(x.data as ArrayLike<number>, fr);
  const r = Array.from(rois.data as ArrayLike<number>, fr);
  const scale = fr(spatialScale);
  const out = new Float64Array(K * C * ph * pw);
  for (let k = 0; k < K; k++) {
    const b = Math.trunc(r[5 * k]);
    const sw = cRound(fr(r[5 * k + 1] * scale));
    const sh = cRound(fr(r[5 * k + 2] * scale));
    const ew = cRound(fr(r[5 * k + 3] * scale));
    const eh = cRound(fr(r[5 * k + 4] * scale));
    const rw = Math.max(ew - sw + 1, 1);
    const rh = Math.max(eh - sh + 1, 1);
    const bh = fr(rh / ph);
    const bw = fr(rw / pw);
    for (let i = 0; i < ph; i++)
      for (let j = 0; j < pw; j++) {
        const h0 = Math.min(Math.max(Math.floor(fr(i * bh)) + sh, 0), H);
        const h1 = Math.min(Math.max(Math.ceil(fr((i + 1) * bh)) + sh, 0), H);
        const w0 = Math.min(Math.max(Math.floor(fr(j * bw)) + sw, 0), W);
        const w1 = Math.min(Math.max(Math.ceil(fr((j + 1) * bw)) + sw, 0), W);
        const empty = h1 <= h0 || w1 <= w0;
        for (let c = 0; c < C; c++) {
          let m = empty ? 0 : -3.4028234663852886e38;
          const base = (b * C + c) * H * W;
          for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) if (xd[base + h * W + w] > m) m = xd[base + h * W + w];
          out[((k * C + c) * ph + i) * pw + j] = m;
        }
      }
  }
  return fromData(out, [K, C, ph, pw]);
}
