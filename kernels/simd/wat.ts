/**
 * The `simd` backend's WebAssembly, written by hand. At its heart one SIMD (f32x4) matrix-multiply
 * micro-kernel, register-blocked 4 × 8:
 *
 *   C[o][col] = Σ_{k<K} A[o][k] · B[k][col]      (float32, k in order, one accumulator per output)
 *
 * A is row-major with a row stride of `lda` bytes (the weights as given, converted to float32 by one
 * typed-array copy, never packed): row ob·4 + r of panel ob starts at a + (ob·4 + r)·lda, and each
 * row value of step k is broadcast to a vector (v128.load32_splat from four row pointers).
 * B is read in blocks of NR = 8 columns: block cb starts at byte `bases[cb]`, and its row k is the
 * 8 consecutive floats at bases[cb] + koff[k] (two v128 loads). With koff[k] = 32·k and one packed
 * panel per block this is the classic packed GEMM; with koff[k] the offset of tap k in a padded
 * image it is an implicit-im2col convolution that never materializes the column matrix.
 * Each (panel, block) pair keeps its 4 × 8 results in eight v128 accumulators for all K steps and
 * stores them once: C[(ob·4 + r)·ldc + cb·8 + t]. The loops run panels outer, blocks inner: the
 * engine hands a call a range of panels × a range of blocks sized so that the blocks' B stays in
 * the L2 cache while every panel of A streams past it once (cache blocking, engine.ts).
 *
 * Relaxed SIMD: where the engine can enable it (Node's --experimental-wasm-relaxed-simd, set at
 * run time and validated on a tiny module first), each step is f32x4.relaxed_madd, a fused
 * multiply-add on CPUs with FMA (one rounding instead of two); otherwise f32x4.mul then f32x4.add.
 * Either way every partial sum is rounded at most twice per step, within the float32 bound.
 *
 * Why not gpu.js: its WebAssembly backend vectorizes across 4 neighbouring output cells, loads every
 * lane-varying operand with 4 scalar loads (no gather in wasm), and a kernel returns at most 4
 * values; that caps a conv at ≈ 4 multiply-adds per gather (measured 1.7 GFLOP/s single-threaded,
 * 3.4 with its worker threads, on the benchmark conv). Register blocking needs control of the loads.
 */

export const MR = 4;
export const NR = 8;
const NV = NR / 4;

/**
 * Every export's WebAssembly signature, declared once: its parameters in order (i32 unless marked
 * `:f64`) and its result. The function headers of the module text (head() below) and the engine's
 * TypeScript types of the exports (Kernels) are both derived from this table.
 */
export const SIGNATURES = {
  gemm: { params: ['a', 'lda', 'koff', 'bases', 'c', 'mb', 'nb', 'k', 'ldc'], result: null },
  gather: { params: ['pix', 'taps', 'k', 'nb', 'dst'], result: null },
  exp: { params: ['x:f64'], result: 'f64' },
  softmax: { params: ['x', 'out', 'outer', 'size', 'inner'], result: null },
  col2im: { params: ['c', 'ldc', 'y', 'Og', 'kh', 'kw', 'N', 'H', 'W', 'Ho', 'Wo', 'yN', 'tp', 'tq', 'sh', 'sw'], result: null },
  addbias: { params: ['y', 'bias', 'N', 'O', 'plane'], result: null },
  boxiou: { params: ['a', 'b', 'N', 'M2', 'plus:f64', 'out'], result: null },
  nms: { params: ['boxes', 'order', 'count', 'thr:f64', 'plus:f64', 'maxOut', 'keep', 'kb'], result: 'i32' },
  bnstats: { params: ['x', 'N', 'C', 'inner', 'mean', 'var'], result: null },
  bnapply: { params: ['x', 'y', 'planes', 'C', 'c0', 'inner', 'mean', 'var', 'gamma', 'beta', 'eps:f64'], result: null },
  unpack: { params: ['c', 'ldc', 'srcRow', 'bias', 'dst', 'dstO', 'dstRow', 'dstCol', 'm', 'rows', 'cols'], result: null },
  maxpool: { params: ['x', 'out', 'idx', 'planes', 'H', 'W', 'Ho', 'Wo', 'ti', 'tj', 'dh', 'dw'], result: null },
  avgpool: { params: ['x', 'out', 'planes', 'H', 'W', 'Ho', 'Wo', 'ti', 'tj', 'di', 'dj', 'divisor:f64'], result: null },
  nonfinite: { params: ['p', 'n'], result: 'i32' },
  dwconv: { params: ['img', 'w', 'bias', 'y', 'koff', 'K', 'planes', 'Hp', 'Wp', 'Ho', 'Wo', 'sh'], result: null },
  padcopy: { params: ['src', 'dst', 'planes', 'H', 'W', 'Hp', 'Wp', 'pt', 'pl'], result: null },
  roialign: { params: ['x', 'out', 'planes', 'H', 'W', 'Ho', 'Wo', 'ti', 'tj', 'ty', 'tx', 'count:f64'], result: null },
} as const;

/**
 * The elementwise kernels, one per elementwise op: the op's name → its value $y (f64) as WAT
 * statements reading the input $v (f64), special values included. Each becomes an export
 * `name(x, out, n)` over n float64 values, every result rounded to float32 (unaryWat), and the
 * simd table (src/ops/simd.ts) gets a kernel for every entry (unary() in reduce.ts): an elementwise
 * op on simd is this one entry.
 */
export const UNARY = {
  // NaN and −∞ give NaN, x ≤ −3 gives 0, x ≥ 3 gives x, else x·(x + 3)/6 in float64
  hardswish: `(local.set $y (f64.div (f64.mul (local.get $v) (f64.add (local.get $v) (f64.const 3))) (f64.const 6)))
      (local.set $y (select (local.get $v) (local.get $y) (f64.ge (local.get $v) (f64.const 3))))
      (local.set $y (select (f64.const 0) (local.get $y) (f64.le (local.get $v) (f64.const -3))))
      (local.set $y (select (f64.const nan) (local.get $y) (i32.or (f64.ne (local.get $v) (local.get $v)) (f64.eq (local.get $v) (f64.const -inf)))))`,
} as const;
export type UnaryName = keyof typeof UNARY;
const UNARY_SIGNATURE = { params: ['x', 'out', 'n'], result: null } as const;

export type KernelName = keyof typeof SIGNATURES;
type Sig = { readonly params: readonly string[]; readonly result: string | null };
/** The JavaScript type of an export: one number per parameter, a number back when it has a result. */
type Numbers<P extends readonly unknown[]> = { -readonly [K in keyof P]: number };
export type KernelFn<S extends Sig> = (...args: Numbers<S['params']>) => S['result'] extends null ? void : number;
/** The module's exports, typed from SIGNATURES. */
export type Kernels = { [N in KernelName]: KernelFn<(typeof SIGNATURES)[N]> } & { [N in UnaryName]: KernelFn<typeof UNARY_SIGNATURE> };

/** The header of export `name`: `(func $name (export "name") (param $a i32) … (result …)`. */
function head(name: KernelName | UnaryName): string {
  const sig: Sig = name in UNARY ? UNARY_SIGNATURE : SIGNATURES[name as KernelName];
  const params = sig.params.map((p) => {
    const [n, t = 'i32'] = p.split(':');
    return `(param $${n} ${t})`;
  });
  return `(func $${name} (export "${name}") ${params.join(' ')}${sig.result ? ` (result ${sig.result})` : ''}`;
}

/** An elementwise export: `name(x, out, n)`, the UNARY entry's statements for each value, rounded to float32. */
function unaryWat(name: UnaryName, body: string): string {
  return `;; ${name}, elementwise
  ${head(name)}
    (local $k i32) (local $v f64) (local $y f64)
    ${loop('k', '(local.get $n)', `
      (local.set $v (f64.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3)))))
      ${body}
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $k) (i32.const 3))) (f64.promote_f32 (f32.demote_f64 (local.get $y))))
    `)})`;
}

/**
 * The WebAssembly text of the engine's module: the GEMM micro-kernel (its MR × NV accumulator
 * updates written out) and the scalar kernels around it (gather, unpack, addbias, col2im, pooling,
 * softmax, IoU, NMS, batch-norm statistics). Every function's contract is the comment above it.
 */
export function moduleWat(o: { relaxed: boolean }): string {
  // a·b + c on f32x4 lanes: relaxed SIMD's multiply-add (fused where the CPU has FMA: one rounding
  // instead of two) when available, else a multiply then an add
  const madd = (a: string, b: string, c: string) => (o.relaxed ? `(f32x4.relaxed_madd ${a} ${b} ${c})` : `(f32x4.add ${c} (f32x4.mul ${a} ${b}))`);
  const acc: string[] = [];
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) acc.push(`$c${r}_${v}`);
  const body: string[] = [];
  for (let v = 0; v < NV; v++) body.push(`(local.set $b${v} (v128.load offset=${16 * v} (local.get $addr)))`);
  const rowAt = ['(local.get $pa)', '(i32.add (local.get $pa) (local.get $lda))', '(i32.add (local.get $pa) (local.get $lda2))', '(i32.add (local.get $pa) (local.get $lda3))'];
  for (let r = 0; r < MR; r++) {
    body.push(`(local.set $av (v128.load32_splat ${rowAt[r]}))`);
    for (let v = 0; v < NV; v++) body.push(`(local.set $c${r}_${v} ${madd('(local.get $av)', `(local.get $b${v})`, `(local.get $c${r}_${v})`)})`);
  }
  const stores: string[] = [];
  for (let r = 0; r < MR; r++) {
    stores.push(`(local.set $out (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $ob) (i32.const ${MR})) (i32.const ${r})) (local.get $ldc)) (i32.mul (local.get $cb) (i32.const ${NR}))) (i32.const 2))))`);
    for (let v = 0; v < NV; v++) stores.push(`(v128.store offset=${16 * v} (local.get $out) (local.get $c${r}_${v}))`);
  }
  // e^r = Σ_{n ≤ 11} rⁿ/n! by Estrin's scheme (pairs, then r², r⁴, r⁸): a dependency chain of about
  // 4 multiply-adds instead of Horner's 11, so consecutive exponentials overlap
  const c = Array.from({ length: 12 }, (_, n) => 1 / [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800, 39916800][n]);
  const fma = (a: string, b: string, m: string) => `(f64.add ${a} (f64.mul ${b} ${m}))`;
  const k = (n: number) => `(f64.const ${c[n]})`;
  const r = '(local.get $r)';
  const pair = (n: number) => fma(k(n), k(n + 1), r);
  const TAYLOR = `(local.set $r2 (f64.mul ${r} ${r}))
    (local.set $r4 (f64.mul (local.get $r2) (local.get $r2)))
    (local.set $e ${fma(fma(fma(pair(0), pair(2), '(local.get $r2)'), fma(pair(4), pair(6), '(local.get $r2)'), '(local.get $r4)'), fma(pair(8), pair(10), '(local.get $r2)'), '(f64.mul (local.get $r4) (local.get $r4))')})`;
  const PIX_LOCALS = Array.from({ length: NR }, (_, t) => `(local $p${t} i32)`).join(' ');
  const PIX_LOADS = Array.from({ length: NR }, (_, t) => `(local.set $p${t} (i32.load offset=${4 * t} (local.get $pix)))`).join('\n      ');
  const PIX_STORES = Array.from({ length: NR }, (_, t) => `(f32.store offset=${4 * t} (local.get $dst) (f32.load (i32.add (local.get $p${t}) (local.get $off))))`).join('\n        ');
  return `(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; gemm: mb row panels (rows lda bytes apart) × nb column blocks, K steps each, panels outer
  ${head('gemm')}
    (local $cb i32) (local $ob i32) (local $kt i32) (local $kend i32) (local $pa i32) (local $pb i32)
    (local $addr i32) (local $out i32) (local $av v128) (local $lda2 i32) (local $lda3 i32)
    ${acc.map((a) => `(local ${a} v128)`).join(' ')}
    ${Array.from({ length: NV }, (_, v) => `(local $b${v} v128)`).join(' ')}
    (local.set $kend (i32.add (local.get $koff) (i32.shl (local.get $k) (i32.const 2))))
    (local.set $lda2 (i32.shl (local.get $lda) (i32.const 1)))
    (local.set $lda3 (i32.add (local.get $lda2) (local.get $lda)))
    ${loop('ob', '(local.get $mb)', `
      ${loop('cb', '(local.get $nb)', `
        (local.set $pb (i32.load (i32.add (local.get $bases) (i32.shl (local.get $cb) (i32.const 2)))))
        ${acc.map((a) => `(local.set ${a} (v128.const i32x4 0 0 0 0))`).join('\n        ')}
        (local.set $pa (i32.add (local.get $a) (i32.mul (local.get $ob) (i32.shl (local.get $lda) (i32.const 2)))))
        ${loop('kt', '(local.get $kend)', `
          (local.set $addr (i32.add (local.get $pb) (i32.load (local.get $kt))))
          ${body.join('\n          ')}
          (local.set $pa (i32.add (local.get $pa) (i32.const 4)))
        `, { init: '(local.get $koff)', step: 4, label: 'k' })}
        ${stores.join('\n        ')}
      `)}
    `)})
  ;; gather: panel[cb][k][t] = image[pix[cb·8 + t] + taps[k]] (byte addresses), cb < nb, k < K
  ${head('gather')}
    (local $cb i32) (local $kt i32) (local $kend i32) (local $off i32)
    ${PIX_LOCALS}
    (local.set $kend (i32.add (local.get $taps) (i32.shl (local.get $k) (i32.const 2))))
    ${loop('cb', '(local.get $nb)', `
      ${PIX_LOADS}
      ${loop('kt', '(local.get $kend)', `
        (local.set $off (i32.load (local.get $kt)))
        ${PIX_STORES}
        (local.set $dst (i32.add (local.get $dst) (i32.const ${NR * 4})))
      `, { init: '(local.get $taps)', step: 4, label: 'k' })}
      (local.set $pix (i32.add (local.get $pix) (i32.const ${NR * 4})))
    `)})
${windowed({
    doc: `;; maxpool: a tap wins when v > m or v is NaN (branch-free: random data makes a branch unpredictable);
  ;; m starts at −∞ and the index at the window's first valid cell; dilation dh, dw`,
    name: 'maxpool',
    locals: '(local $h i32) (local $cell i32) (local $m f64) (local $v f64) (local $a i32) (local $win i32)',
    init: `(local.set $m (f64.const -inf))
          (local.set $a (i32.add (i32.mul (local.get $hf) (local.get $W)) (local.get $wf)))`,
    row: '(local.set $h (i32.add (local.get $hf) (i32.mul (local.get $p) (local.get $dh))))',
    tap: `(local.set $cell (i32.add (i32.mul (local.get $h) (local.get $W)) (i32.add (local.get $wf) (i32.mul (local.get $q) (local.get $dw)))))
              (local.set $v (f64.load (i32.add (local.get $base) (i32.shl (local.get $cell) (i32.const 3)))))
              (local.set $win (i32.or (f64.gt (local.get $v) (local.get $m)) (f64.ne (local.get $v) (local.get $v))))
              (local.set $m (select (local.get $v) (local.get $m) (local.get $win)))
              (local.set $a (select (local.get $cell) (local.get $a) (local.get $win)))`,
    store: `(f64.store (local.get $out) (f64.promote_f32 (f32.demote_f64 (local.get $m))))
          (f64.store (local.get $idx) (f64.convert_i32_s (local.get $a)))
          (local.set $idx (i32.add (local.get $idx) (i32.const 8)))`,
  })}
${windowed({
    doc: `;; avgpool (dilation 1): y = Σ valid taps / (divisor > 0 ? divisor : di[i]·dj[j]), 0 for a window
  ;; without valid taps; the sum in float64, the quotient rounded to float32`,
    name: 'avgpool',
    locals: '(local $row i32) (local $s f64) (local $d f64)',
    init: '(local.set $s (f64.const 0))',
    row: '(local.set $row (i32.add (local.get $base) (i32.shl (i32.add (i32.mul (i32.add (local.get $hf) (local.get $p)) (local.get $W)) (local.get $wf)) (i32.const 3))))',
    tap: '(local.set $s (f64.add (local.get $s) (f64.load (i32.add (local.get $row) (i32.shl (local.get $q) (i32.const 3))))))',
    store: `(local.set $d (local.get $divisor))
          (if (f64.le (local.get $d) (f64.const 0))
            (then (local.set $d (f64.mul (f64.load (i32.add (local.get $di) (i32.shl (local.get $i) (i32.const 3))))
                                         (f64.load (i32.add (local.get $dj) (i32.shl (local.get $j) (i32.const 3))))))))
          (if (i32.or (i32.eqz (local.get $hc)) (i32.eqz (local.get $wc)))
            (then (local.set $s (f64.const 0)) (local.set $d (f64.const 1))))
          (f64.store (local.get $out) (f64.promote_f32 (f32.demote_f64 (f64.div (local.get $s) (local.get $d)))))`,
  })}
  ;; exp(x) in float64, relative error below 1e-13: x = k·ln 2 + r with |r| ≤ ln2/2 (Cody–Waite, ln 2
  ;; split in two), e^r by its Taylor polynomial to r¹¹/11! (Estrin), times 2^k built from its bits
  ;; (in two steps past 2^±1000); NaN stays NaN, x < −745.2 gives 0 (below the least subnormal), x > 709.78 ∞
  ${head('exp')}
    (local $k f64) (local $r f64) (local $r2 f64) (local $r4 f64) (local $e f64) (local $ki i64)
    (if (f64.ne (local.get $x) (local.get $x)) (then (return (local.get $x))))
    (if (f64.lt (local.get $x) (f64.const -745.2)) (then (return (f64.const 0))))
    (if (f64.gt (local.get $x) (f64.const 709.78)) (then (return (f64.const inf))))
    (local.set $k (f64.nearest (f64.mul (local.get $x) (f64.const 1.4426950408889634))))
    (local.set $r (f64.sub (f64.sub (local.get $x) (f64.mul (local.get $k) (f64.const 0.6931471803691238)))
                           (f64.mul (local.get $k) (f64.const 1.9082149292705877e-10))))
    ${TAYLOR}
    (local.set $ki (i64.trunc_f64_s (local.get $k)))
    (if (i64.gt_s (local.get $ki) (i64.const 1000))
      (then (return (f64.mul (f64.mul (local.get $e) (f64.reinterpret_i64 (i64.shl (i64.add (local.get $ki) (i64.const 23)) (i64.const 52))))
                             (f64.const 1.0715086071862673e301)))))
    (if (i64.lt_s (local.get $ki) (i64.const -1000))
      (then (return (f64.mul (f64.mul (local.get $e) (f64.reinterpret_i64 (i64.shl (i64.add (local.get $ki) (i64.const 2023)) (i64.const 52))))
                             (f64.const 9.332636185032189e-302)))))
    (f64.mul (local.get $e) (f64.reinterpret_i64 (i64.shl (i64.add (local.get $ki) (i64.const 1023)) (i64.const 52)))))
  ;; softmax over x viewed as [outer, size, inner] along size: m = max (NaN ignored), e = exp(x − m)
  ;; ($exp above) stored, s = Σ e in float64, y = e / s rounded to float32; a row holding a NaN gives NaN
  ${head('softmax')}
    (local $o i32) (local $in i32) (local $k i32) (local $base i32) (local $stride i32) (local $at i32)
    (local $m f64) (local $v f64) (local $s f64) (local $nan i32)
    (local.set $stride (i32.shl (local.get $inner) (i32.const 3)))
    ${loop('o', '(local.get $outer)', `
      ${loop('in', '(local.get $inner)', `
        (local.set $base (i32.shl (i32.add (i32.mul (local.get $o) (i32.mul (local.get $size) (local.get $inner))) (local.get $in)) (i32.const 3)))
        (local.set $m (f64.const -inf))
        (local.set $nan (i32.const 0))
        (local.set $at (local.get $base))
        ${loop('k', '(local.get $size)', `
          (local.set $v (f64.load (i32.add (local.get $x) (local.get $at))))
          (local.set $nan (i32.or (local.get $nan) (f64.ne (local.get $v) (local.get $v))))
          (local.set $m (select (local.get $v) (local.get $m) (f64.gt (local.get $v) (local.get $m))))
          (local.set $at (i32.add (local.get $at) (local.get $stride)))
        `, { label: 'k1' })}
        (local.set $s (f64.const 0))
        (local.set $at (local.get $base))
        ${loop('k', '(local.get $size)', `
          (local.set $v (call $exp (f64.sub (f64.load (i32.add (local.get $x) (local.get $at))) (local.get $m))))
          (f64.store (i32.add (local.get $out) (local.get $at)) (local.get $v))
          (local.set $s (f64.add (local.get $s) (local.get $v)))
          (local.set $at (i32.add (local.get $at) (local.get $stride)))
        `, { label: 'k2' })}
        (if (local.get $nan) (then (local.set $s (f64.const nan))))
        (local.set $at (local.get $base))
        ${loop('k', '(local.get $size)', `
          (f64.store (i32.add (local.get $out) (local.get $at))
            (f64.promote_f32 (f32.demote_f64 (f64.div (f64.load (i32.add (local.get $out) (local.get $at))) (local.get $s)))))
          (local.set $at (i32.add (local.get $at) (local.get $stride)))
        `, { label: 'k3' })}
      `)}
    `)})
  ;; the elementwise kernels (UNARY): y[k] = f(x[k]) over n float64 values, rounded to float32
  ${Object.entries(UNARY).map(([name, body]) => unaryWat(name as UnaryName, body)).join('\n  ')}
  ;; col2im: row (m, p, q) of C, column (n, ih, iw) = n·HW + ih·W + iw, is added to
  ;; y[n·yN + m·HoWo + (ih·sh + tp[3p+2])·Wo + iw·sw + tq[3q+2]] for ih in tp[3p] + [0, tp[3p+1]),
  ;; iw in tq[3q] + [0, tq[3q+1]) (the input positions whose output lands inside), in float64
  ${head('col2im')}
    (local $m i32) (local $p i32) (local $q i32) (local $n i32) (local $ih i32) (local $iw i32) (local $row i32)
    (local $ihLo i32) (local $ihEnd i32) (local $ohOff i32) (local $iwLo i32) (local $iwEnd i32) (local $owOff i32)
    (local $src i32) (local $dst i32) (local $at i32)
    (local.set $row (local.get $c))
    ${loop('m', '(local.get $Og)', `
      ${loop('p', '(local.get $kh)', `
        (local.set $at (i32.add (local.get $tp) (i32.mul (local.get $p) (i32.const 12))))
        (local.set $ihLo (i32.load (local.get $at)))
        (local.set $ihEnd (i32.add (local.get $ihLo) (i32.load offset=4 (local.get $at))))
        (local.set $ohOff (i32.load offset=8 (local.get $at)))
        ${loop('q', '(local.get $kw)', `
          (local.set $at (i32.add (local.get $tq) (i32.mul (local.get $q) (i32.const 12))))
          (local.set $iwLo (i32.load (local.get $at)))
          (local.set $iwEnd (i32.add (local.get $iwLo) (i32.load offset=4 (local.get $at))))
          (local.set $owOff (i32.load offset=8 (local.get $at)))
          ${loop('n', '(local.get $N)', `
            ${loop('ih', '(local.get $ihEnd)', `
              (local.set $src (i32.add (local.get $row) (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $n) (local.get $H)) (local.get $ih)) (local.get $W)) (local.get $iwLo)) (i32.const 2))))
              (local.set $dst (i32.add (local.get $y) (i32.shl
                (i32.add (i32.add (i32.mul (local.get $n) (local.get $yN)) (i32.mul (local.get $m) (i32.mul (local.get $Ho) (local.get $Wo))))
                         (i32.add (i32.mul (i32.add (i32.mul (local.get $ih) (local.get $sh)) (local.get $ohOff)) (local.get $Wo))
                                  (i32.add (i32.mul (local.get $iwLo) (local.get $sw)) (local.get $owOff))))
                (i32.const 3))))
              ${loop('iw', '(local.get $iwEnd)', `
                (f64.store (local.get $dst) (f64.add (f64.load (local.get $dst)) (f64.promote_f32 (f32.load (local.get $src)))))
                (local.set $src (i32.add (local.get $src) (i32.const 4)))
                (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $sw) (i32.const 3))))
              `, { init: '(local.get $iwLo)' })}
            `, { init: '(local.get $ihLo)' })}
          `)}
          (local.set $row (i32.add (local.get $row) (i32.shl (local.get $ldc) (i32.const 2))))
        `)}
      `)}
    `)})
  ;; addbias: y[(n·O + o)·plane + e] = f32(y + bias[o]) over n < N, o < O, e < plane (float64 y, float32 bias)
  ${head('addbias')}
    (local $n i32) (local $o i32) (local $e i32) (local $b f64)
    ${loop('n', '(local.get $N)', `
      ${loop('o', '(local.get $O)', `
        (local.set $b (f64.promote_f32 (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2))))))
        ${loop('e', '(local.get $plane)', `
          (f64.store (local.get $y) (f64.promote_f32 (f32.demote_f64 (f64.add (f64.load (local.get $y)) (local.get $b)))))
          (local.set $y (i32.add (local.get $y) (i32.const 8)))
        `)}
      `)}
    `)})
  ;; boxiou: out[i·M + j] = f32(iou(a_i, b_j)), i < N, j < M2 (M rounded up to even), two j at a time:
  ;; b in columns bx0, by0, bx1, by1 (each M2 float64), the same operations as $iou on f64x2 lanes
  ;; (f64x2.min/max propagate NaN and order −0 < +0 like the scalar ones); out rows are M2 wide
  ${head('boxiou')}
    (local $i i32) (local $j i32) (local $pa i32) (local $col i32)
    (local $ax0 v128) (local $ay0 v128) (local $ax1 v128) (local $ay1 v128) (local $areaA v128) (local $p v128)
    (local $bx0 v128) (local $by0 v128) (local $bx1 v128) (local $by1 v128) (local $inter v128) (local $union v128) (local $r v128)
    (local.set $p (f64x2.splat (local.get $plus)))
    ${loop('i', '(local.get $N)', `
      (local.set $pa (i32.add (local.get $a) (i32.shl (local.get $i) (i32.const 5))))
      (local.set $ax0 (v128.load64_splat (local.get $pa)))
      (local.set $ay0 (v128.load64_splat offset=8 (local.get $pa)))
      (local.set $ax1 (v128.load64_splat offset=16 (local.get $pa)))
      (local.set $ay1 (v128.load64_splat offset=24 (local.get $pa)))
      (local.set $areaA (f64x2.mul
        (f64x2.max (f64x2.add (f64x2.sub (local.get $ax1) (local.get $ax0)) (local.get $p)) (v128.const f64x2 0 0))
        (f64x2.max (f64x2.add (f64x2.sub (local.get $ay1) (local.get $ay0)) (local.get $p)) (v128.const f64x2 0 0))))
      ${loop('j', '(local.get $M2)', `
        (local.set $col (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 3))))
        (local.set $bx0 (v128.load (local.get $col)))
        (local.set $by0 (v128.load (i32.add (local.get $col) (i32.shl (local.get $M2) (i32.const 3)))))
        (local.set $bx1 (v128.load (i32.add (local.get $col) (i32.shl (local.get $M2) (i32.const 4)))))
        (local.set $by1 (v128.load (i32.add (local.get $col) (i32.mul (local.get $M2) (i32.const 24)))))
        (local.set $inter (f64x2.mul
          (f64x2.max (f64x2.add (f64x2.sub (f64x2.min (local.get $ax1) (local.get $bx1)) (f64x2.max (local.get $ax0) (local.get $bx0))) (local.get $p)) (v128.const f64x2 0 0))
          (f64x2.max (f64x2.add (f64x2.sub (f64x2.min (local.get $ay1) (local.get $by1)) (f64x2.max (local.get $ay0) (local.get $by0))) (local.get $p)) (v128.const f64x2 0 0))))
        (local.set $union (f64x2.sub (f64x2.add (local.get $areaA)
          (f64x2.mul (f64x2.max (f64x2.add (f64x2.sub (local.get $bx1) (local.get $bx0)) (local.get $p)) (v128.const f64x2 0 0))
                     (f64x2.max (f64x2.add (f64x2.sub (local.get $by1) (local.get $by0)) (local.get $p)) (v128.const f64x2 0 0))))
          (local.get $inter)))
        ;; union > 0: inter/union; union = 0: 0; else (negative or NaN): NaN
        (local.set $r (v128.bitselect
          (f64x2.div (local.get $inter) (local.get $union))
          (v128.bitselect (v128.const f64x2 0 0) (v128.const f64x2 nan nan) (f64x2.eq (local.get $union) (v128.const f64x2 0 0)))
          (f64x2.gt (local.get $union) (v128.const f64x2 0 0))))
        (f64.store (local.get $out) (f64.promote_f32 (f32.demote_f64 (f64x2.extract_lane 0 (local.get $r)))))
        (f64.store offset=8 (local.get $out) (f64.promote_f32 (f32.demote_f64 (f64x2.extract_lane 1 (local.get $r)))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
      `, { step: 2 })}
    `)})
  ;; nms: the greedy scan of the reference: candidates order[0..count) (already filtered and sorted),
  ;; a candidate is kept unless iou(kept box, candidate) > thr for some kept box, at most maxOut kept;
  ;; writes the kept indices to keep[] and returns their number. The kept boxes are also written as
  ;; columns x1, y1, x2, y2, area at kb (each count + 2 float64, a NaN box after the last), and each
  ;; candidate is tested against two kept boxes at a time with $iou's operations on f64x2 lanes
  ${head('nms')}
    (local $t i32) (local $u i32) (local $i i32) (local $kept i32) (local $sup i32) (local $pb i32) (local $col i32) (local $stride i32)
    (local $c0 f64) (local $c1 f64) (local $c2 f64) (local $c3 f64) (local $area f64)
    (local $x0 v128) (local $y0 v128) (local $x1 v128) (local $y1 v128) (local $areaB v128) (local $p v128) (local $th v128)
    (local $inter v128) (local $union v128) (local $r v128)
    (local.set $stride (i32.shl (i32.add (local.get $count) (i32.const 2)) (i32.const 3)))
    (local.set $p (f64x2.splat (local.get $plus)))
    (local.set $th (f64x2.splat (local.get $thr)))
    ;; slot 0 holds the NaN box (IoU NaN: never suppresses)
    (f64.store (local.get $kb) (f64.const nan))
    (f64.store (i32.add (local.get $kb) (local.get $stride)) (f64.const nan))
    (f64.store (i32.add (local.get $kb) (i32.shl (local.get $stride) (i32.const 1))) (f64.const nan))
    (f64.store (i32.add (local.get $kb) (i32.mul (local.get $stride) (i32.const 3))) (f64.const nan))
    (f64.store (i32.add (local.get $kb) (i32.shl (local.get $stride) (i32.const 2))) (f64.const nan))
    ${loop('t', '(local.get $count)', `
      (br_if $tdone (i32.ge_u (local.get $kept) (local.get $maxOut)))
      (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $t) (i32.const 2)))))
      (local.set $pb (i32.add (local.get $boxes) (i32.shl (local.get $i) (i32.const 5))))
      (local.set $c0 (f64.load (local.get $pb)))
      (local.set $c1 (f64.load offset=8 (local.get $pb)))
      (local.set $c2 (f64.load offset=16 (local.get $pb)))
      (local.set $c3 (f64.load offset=24 (local.get $pb)))
      (local.set $area (f64.mul (f64.max (f64.add (f64.sub (local.get $c2) (local.get $c0)) (local.get $plus)) (f64.const 0))
                                (f64.max (f64.add (f64.sub (local.get $c3) (local.get $c1)) (local.get $plus)) (f64.const 0))))
      (local.set $x0 (f64x2.splat (local.get $c0)))
      (local.set $y0 (f64x2.splat (local.get $c1)))
      (local.set $x1 (f64x2.splat (local.get $c2)))
      (local.set $y1 (f64x2.splat (local.get $c3)))
      (local.set $areaB (f64x2.splat (local.get $area)))
      (local.set $sup (i32.const 0))
      ${loop('u', '(local.get $kept)', `
        (local.set $col (i32.add (local.get $kb) (i32.shl (local.get $u) (i32.const 3))))
        (local.set $inter (f64x2.mul
          (f64x2.max (f64x2.add (f64x2.sub (f64x2.min (v128.load (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 1)))) (local.get $x1))
                                           (f64x2.max (v128.load (local.get $col)) (local.get $x0))) (local.get $p)) (v128.const f64x2 0 0))
          (f64x2.max (f64x2.add (f64x2.sub (f64x2.min (v128.load (i32.add (local.get $col) (i32.mul (local.get $stride) (i32.const 3)))) (local.get $y1))
                                           (f64x2.max (v128.load (i32.add (local.get $col) (local.get $stride))) (local.get $y0))) (local.get $p)) (v128.const f64x2 0 0))))
        (local.set $union (f64x2.sub (f64x2.add (v128.load (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 2)))) (local.get $areaB)) (local.get $inter)))
        (local.set $r (v128.bitselect
          (f64x2.div (local.get $inter) (local.get $union))
          (v128.bitselect (v128.const f64x2 0 0) (v128.const f64x2 nan nan) (f64x2.eq (local.get $union) (v128.const f64x2 0 0)))
          (f64x2.gt (local.get $union) (v128.const f64x2 0 0))))
        (if (v128.any_true (f64x2.gt (local.get $r) (local.get $th)))
          (then (local.set $sup (i32.const 1)) (br $udone)))
      `, { step: 2 })}
      (if (i32.eqz (local.get $sup))
        (then
          (i32.store (i32.add (local.get $keep) (i32.shl (local.get $kept) (i32.const 2))) (local.get $i))
          (local.set $col (i32.add (local.get $kb) (i32.shl (local.get $kept) (i32.const 3))))
          (f64.store (local.get $col) (local.get $c0))
          (f64.store (i32.add (local.get $col) (local.get $stride)) (local.get $c1))
          (f64.store (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 1))) (local.get $c2))
          (f64.store (i32.add (local.get $col) (i32.mul (local.get $stride) (i32.const 3))) (local.get $c3))
          (f64.store (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 2))) (local.get $area))
          (local.set $kept (i32.add (local.get $kept) (i32.const 1)))
          (local.set $col (i32.add (local.get $kb) (i32.shl (local.get $kept) (i32.const 3))))
          (f64.store (local.get $col) (f64.const nan))
          (f64.store (i32.add (local.get $col) (local.get $stride)) (f64.const nan))
          (f64.store (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 1))) (f64.const nan))
          (f64.store (i32.add (local.get $col) (i32.mul (local.get $stride) (i32.const 3))) (f64.const nan))
          (f64.store (i32.add (local.get $col) (i32.shl (local.get $stride) (i32.const 2))) (f64.const nan))))
    `)}
    (local.get $kept))
  ;; bnstats: per channel c, over n < N and k < inner: mean = Σ x / cnt, var = Σ (x − mean)² / cnt (biased), float64
  ${head('bnstats')}
    (local $c i32) (local $n i32) (local $k i32) (local $row i32) (local $s f64) (local $m f64) (local $d f64) (local $cnt f64)
    (local.set $cnt (f64.convert_i32_u (i32.mul (local.get $N) (local.get $inner))))
    ${loop('c', '(local.get $C)', `
      (local.set $s (f64.const 0))
      ${loop('n', '(local.get $N)', `
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $inner)) (i32.const 3))))
        ${loop('k', '(local.get $inner)', `
          (local.set $s (f64.add (local.get $s) (f64.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 3))))))
        `, { label: 'k1' })}
      `, { label: 'n1' })}
      (local.set $m (f64.div (local.get $s) (local.get $cnt)))
      (local.set $s (f64.const 0))
      ${loop('n', '(local.get $N)', `
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (i32.add (i32.mul (local.get $n) (local.get $C)) (local.get $c)) (local.get $inner)) (i32.const 3))))
        ${loop('k', '(local.get $inner)', `
          (local.set $d (f64.sub (f64.load (i32.add (local.get $row) (i32.shl (local.get $k) (i32.const 3)))) (local.get $m)))
          (local.set $s (f64.add (local.get $s) (f64.mul (local.get $d) (local.get $d))))
        `, { label: 'k2' })}
      `, { label: 'n2' })}
      (f64.store (i32.add (local.get $mean) (i32.shl (local.get $c) (i32.const 3))) (local.get $m))
      (f64.store (i32.add (local.get $var) (i32.shl (local.get $c) (i32.const 3))) (f64.div (local.get $s) (local.get $cnt)))
    `)})
  ;; bnapply over planes pl < planes of x (channel c = (c0 + pl) mod C): y = f32(((x − mean[c])·inv)·gamma[c]
  ;; + beta[c]) (y float32) with inv = 1/√(var[c] + eps), the reference's operations in float64, two values at a time
  ${head('bnapply')}
    (local $pl i32) (local $c i32) (local $k i32) (local $inv f64) (local $m v128) (local $iv v128) (local $g v128) (local $b v128)
    (local $e i32) (local $at i32) (local $v v128)
    (local.set $c (local.get $c0))
    (local.set $e (i32.and (local.get $inner) (i32.const -2)))
    ${loop('pl', '(local.get $planes)', `
      (local.set $inv (f64.div (f64.const 1) (f64.sqrt (f64.add (f64.load (i32.add (local.get $var) (i32.shl (local.get $c) (i32.const 3)))) (local.get $eps)))))
      (local.set $iv (f64x2.splat (local.get $inv)))
      (local.set $m (v128.load64_splat (i32.add (local.get $mean) (i32.shl (local.get $c) (i32.const 3)))))
      (local.set $g (v128.load64_splat (i32.add (local.get $gamma) (i32.shl (local.get $c) (i32.const 3)))))
      (local.set $b (v128.load64_splat (i32.add (local.get $beta) (i32.shl (local.get $c) (i32.const 3)))))
      ${loop('k', '(local.get $e)', `
        (local.set $at (i32.shl (local.get $k) (i32.const 3)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.mul (f64x2.sub (v128.load (i32.add (local.get $x) (local.get $at))) (local.get $m)) (local.get $iv)) (local.get $g)) (local.get $b)))
        (v128.store64_lane 0 (i32.add (local.get $y) (i32.shr_u (local.get $at) (i32.const 1))) (f32x4.demote_f64x2_zero (local.get $v)))
      `, { step: 2 })}
      ${loop('k', '(local.get $inner)', `
        (local.set $at (i32.shl (local.get $k) (i32.const 3)))
        (local.set $v (f64x2.add (f64x2.mul (f64x2.mul (f64x2.sub (v128.load64_splat (i32.add (local.get $x) (local.get $at))) (local.get $m)) (local.get $iv)) (local.get $g)) (local.get $b)))
        (f32.store (i32.add (local.get $y) (i32.shr_u (local.get $at) (i32.const 1))) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $v))))
      `, { init: '(local.get $e)', label: 'tail' })}
      (local.set $x (i32.add (local.get $x) (i32.shl (local.get $inner) (i32.const 3))))
      (local.set $y (i32.add (local.get $y) (i32.shl (local.get $inner) (i32.const 2))))
      (local.set $c (i32.add (local.get $c) (i32.const 1)))
      (if (i32.eq (local.get $c) (local.get $C)) (then (local.set $c (i32.const 0))))
    `)})
${windowed({
    doc: `;; roialign, one RoI: out[c][i][j] = f32(Σ over its valid samples of the 4 bilinear terms / count).
  ;; The samples are separable, so they are windows: bin row i has ti[2i+1] y-entries from ti[2i],
  ;; bin column j has tj[2j+1] x-entries from tj[2j]; an entry is 4 float64 [lo·W | lo, hi·W | hi,
  ;; h, l] (a row entry | a column entry) at ty + 32·e | tx + 32·e`,
    name: 'roialign',
    locals: '(local $ey i32) (local $ex i32) (local $rl i32) (local $rh i32) (local $xl i32) (local $xh i32) (local $hy f64) (local $ly f64) (local $hx f64) (local $lx f64) (local $s f64)',
    init: '(local.set $s (f64.const 0))',
    row: `(local.set $ey (i32.add (local.get $ty) (i32.shl (i32.add (local.get $hf) (local.get $p)) (i32.const 5))))
            (local.set $rl (i32.trunc_f64_s (f64.load (local.get $ey))))
            (local.set $rh (i32.trunc_f64_s (f64.load offset=8 (local.get $ey))))
            (local.set $hy (f64.load offset=16 (local.get $ey)))
            (local.set $ly (f64.load offset=24 (local.get $ey)))`,
    tap: `(local.set $ex (i32.add (local.get $tx) (i32.shl (i32.add (local.get $wf) (local.get $q)) (i32.const 5))))
              (local.set $xl (i32.trunc_f64_s (f64.load (local.get $ex))))
              (local.set $xh (i32.trunc_f64_s (f64.load offset=8 (local.get $ex))))
              (local.set $hx (f64.load offset=16 (local.get $ex)))
              (local.set $lx (f64.load offset=24 (local.get $ex)))
              (local.set $s (f64.add (local.get $s) (f64.mul (f64.mul (local.get $hy) (local.get $hx))
                (f64.load (i32.add (local.get $base) (i32.shl (i32.add (local.get $rl) (local.get $xl)) (i32.const 3)))))))
              (local.set $s (f64.add (local.get $s) (f64.mul (f64.mul (local.get $hy) (local.get $lx))
                (f64.load (i32.add (local.get $base) (i32.shl (i32.add (local.get $rl) (local.get $xh)) (i32.const 3)))))))
              (local.set $s (f64.add (local.get $s) (f64.mul (f64.mul (local.get $ly) (local.get $hx))
                (f64.load (i32.add (local.get $base) (i32.shl (i32.add (local.get $rh) (local.get $xl)) (i32.const 3)))))))
              (local.set $s (f64.add (local.get $s) (f64.mul (f64.mul (local.get $ly) (local.get $lx))
                (f64.load (i32.add (local.get $base) (i32.shl (i32.add (local.get $rh) (local.get $xh)) (i32.const 3)))))))`,
    store: '(f64.store (local.get $out) (f64.promote_f32 (f32.demote_f64 (f64.div (local.get $s) (local.get $count)))))',
  })}
  ;; nonfinite: 1 when any of the n float32 at p is ±∞ or NaN (v·0 is NaN exactly then), else 0
  ${head('nonfinite')}
    (local $i i32) (local $z v128) (local $e i32)
    (local.set $z (v128.const i32x4 0 0 0 0))
    (local.set $e (i32.and (local.get $n) (i32.const -4)))
    ${loop('i', '(local.get $e)', `
      (local.set $z (f32x4.add (local.get $z) (f32x4.mul (v128.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (v128.const f32x4 0 0 0 0))))
    `, { step: 4 })}
    ${loop('i', '(local.get $n)', `
      (local.set $z (f32x4.add (local.get $z) (f32x4.splat (f32.mul (f32.load (i32.add (local.get $p) (i32.shl (local.get $i) (i32.const 2)))) (f32.const 0)))))
    `, { init: '(local.get $e)', label: 'tail' })}
    (i32.eqz (i32x4.all_true (f32x4.eq (local.get $z) (local.get $z)))))
  ;; dwconv (depthwise, stride 1 along rows): for each plane pl < planes (one input channel, one
  ;; filter of K taps), y[pl][i][j] = f32(Σ_t w[pl·K + t]·img[pl][i·sh][j + koff[t]/4]) + bias[pl],
  ;; the sum in float32 over t in order, eight j at a time (two accumulators); koff[t] is tap t's
  ;; byte offset from the window's corner (the caller reverses the table for a flipped kernel);
  ;; img planes are Hp × Wp zero-padded float32, wide enough for whole 8-column blocks; y float32
  ${head('dwconv')}
    (local $pl i32) (local $i i32) (local $j i32) (local $kt i32) (local $kend i32) (local $wp i32) (local $wt i32)
    (local $row i32) (local $addr i32) (local $a0 v128) (local $a1 v128) (local $wv v128) (local $bv v128) (local $dst i32)
    (local.set $kend (i32.add (local.get $koff) (i32.shl (local.get $K) (i32.const 2))))
    ${loop('pl', '(local.get $planes)', `
      (local.set $bv (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $pl) (i32.const 2)))))
      (local.set $wp (i32.add (local.get $w) (i32.shl (i32.mul (local.get $pl) (local.get $K)) (i32.const 2))))
      (local.set $dst (i32.add (local.get $y) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $Ho) (local.get $Wo))) (i32.const 2))))
      ${loop('i', '(local.get $Ho)', `
        (local.set $row (i32.add (local.get $img) (i32.shl (i32.add (i32.mul (local.get $pl) (i32.mul (local.get $Hp) (local.get $Wp))) (i32.mul (i32.mul (local.get $i) (local.get $sh)) (local.get $Wp))) (i32.const 2))))
        ${loop('j', '(local.get $Wo)', `
          (local.set $a0 (v128.const i32x4 0 0 0 0))
          (local.set $a1 (v128.const i32x4 0 0 0 0))
          (local.set $wt (local.get $wp))
          ${loop('kt', '(local.get $kend)', `
            (local.set $addr (i32.add (local.get $row) (i32.load (local.get $kt))))
            (local.set $wv (v128.load32_splat (local.get $wt)))
            (local.set $a0 ${madd('(local.get $wv)', '(v128.load (local.get $addr))', '(local.get $a0)')})
            (local.set $a1 ${madd('(local.get $wv)', '(v128.load offset=16 (local.get $addr))', '(local.get $a1)')})
            (local.set $wt (i32.add (local.get $wt) (i32.const 4)))
          `, { init: '(local.get $koff)', step: 4, label: 'k' })}
          (local.set $a0 (f32x4.add (local.get $a0) (local.get $bv)))
          (local.set $a1 (f32x4.add (local.get $a1) (local.get $bv)))
          (if (i32.le_u (i32.add (local.get $j) (i32.const 8)) (local.get $Wo))
            (then
              (v128.store (local.get $dst) (local.get $a0))
              (v128.store offset=16 (local.get $dst) (local.get $a1))
              (local.set $dst (i32.add (local.get $dst) (i32.const 32))))
            (else
              ${Array.from({ length: 7 }, (_, l) => `(if (i32.lt_u (i32.add (local.get $j) (i32.const ${l})) (local.get $Wo)) (then (f32.store offset=${4 * l} (local.get $dst) (f32x4.extract_lane ${l % 4} (local.get $a${l >> 2})))))`).join('\n              ')}
              (local.set $dst (i32.add (local.get $dst) (i32.shl (i32.sub (local.get $Wo) (local.get $j)) (i32.const 2))))))
          (local.set $row (i32.add (local.get $row) (i32.const 32)))
        `, { step: 8 })}
      `)}
    `)})
  ;; padcopy: planes of H × W float32 at src into zero-padded planes of Hp × Wp at dst, plane data
  ;; at row pt, column pl (the rest zeros)
  ${head('padcopy')}
    (local $c i32) (local $h i32) (local $k i32) (local $s i32) (local $d i32) (local $e i32)
    (local.set $e (i32.and (local.get $W) (i32.const -4)))
    ${loop('c', '(local.get $planes)', `
      (memory.fill (local.get $dst) (i32.const 0) (i32.shl (i32.mul (local.get $Hp) (local.get $Wp)) (i32.const 2)))
      ${loop('h', '(local.get $H)', `
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.add (local.get $h) (local.get $pt)) (local.get $Wp)) (local.get $pl)) (i32.const 2))))
        ${loop('k', '(local.get $e)', `
          (v128.store (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 2))) (v128.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))))
        `, { step: 4 })}
        ${loop('k', '(local.get $W)', `
          (f32.store (i32.add (local.get $d) (i32.shl (local.get $k) (i32.const 2))) (f32.load (i32.add (local.get $src) (i32.shl (local.get $k) (i32.const 2)))))
        `, { init: '(local.get $e)', label: 'tail' })}
        (local.set $src (i32.add (local.get $src) (i32.shl (local.get $W) (i32.const 2))))
      `)}
      (local.set $dst (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $Hp) (local.get $Wp)) (i32.const 2))))
    `)})
  ;; unpack: y[o·dstO + r·dstRow + j·dstCol] = C[o·ldc + r·srcRow + j] + bias[o] (f32 add, y float32), o < m, r < rows, j < cols
  ${head('unpack')}
    (local $o i32) (local $r i32) (local $j i32) (local $b f32) (local $s i32) (local $d i32)
    (local.set $dstCol (i32.shl (local.get $dstCol) (i32.const 2)))
    ${loop('o', '(local.get $m)', `
      (local.set $b (f32.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
      ${loop('r', '(local.get $rows)', `
        (local.set $s (i32.add (local.get $c) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $ldc)) (i32.mul (local.get $r) (local.get $srcRow))) (i32.const 2))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $o) (local.get $dstO)) (i32.mul (local.get $r) (local.get $dstRow))) (i32.const 2))))
        ${loop('j', '(local.get $cols)', `
          (f32.store (local.get $d) (f32.add (f32.load (local.get $s)) (local.get $b)))
          (local.set $s (i32.add (local.get $s) (i32.const 4)))
          (local.set $d (i32.add (local.get $d) (local.get $dstCol)))
        `)}
      `)}
    `)}))`;
}

/** The parts of a windowed function (pooling, RoIAlign) that differ; windowed() writes the loops they share. */
interface WindowedParts {
  doc: string;
  name: KernelName;
  locals: string;
  /** Per output, before its taps. */
  init: string;
  /** Per valid row p of the window (from hf). */
  row: string;
  /** Per valid tap q of the row. */
  tap: string;
  /** Per output, after its taps; $out then advances by one float64. */
  store: string;
}

/**
 * A windowed function: for each plane, output row i and column j, the window's valid rows
 * p < ti[2i+1] from hf = ti[2i] and valid columns q < tj[2j+1] from wf = tj[2j] (per-axis tables
 * written by the caller), so the loops visit only valid taps, in the reference's order.
 */
function windowed(f: WindowedParts): string {
  return `  ${f.doc}
  ${head(f.name)}
    (local $pl i32) (local $i i32) (local $j i32) (local $p i32) (local $q i32) (local $hf i32) (local $hc i32) (local $wf i32) (local $wc i32) (local $base i32)
    ${f.locals}
    ${loop('pl', '(local.get $planes)', `
      (local.set $base (i32.add (local.get $x) (i32.shl (i32.mul (local.get $pl) (i32.mul (local.get $H) (local.get $W))) (i32.const 3))))
      ${loop('i', '(local.get $Ho)', `
        (local.set $hf (i32.load (i32.add (local.get $ti) (i32.shl (local.get $i) (i32.const 3)))))
        (local.set $hc (i32.load offset=4 (i32.add (local.get $ti) (i32.shl (local.get $i) (i32.const 3)))))
        ${loop('j', '(local.get $Wo)', `
          (local.set $wf (i32.load (i32.add (local.get $tj) (i32.shl (local.get $j) (i32.const 3)))))
          (local.set $wc (i32.load offset=4 (i32.add (local.get $tj) (i32.shl (local.get $j) (i32.const 3)))))
          ${f.init}
          ${loop('p', '(local.get $hc)', `
            ${f.row}
            ${loop('q', '(local.get $wc)', `
              ${f.tap}
            `)}
          `)}
          ${f.store}
          (local.set $out (i32.add (local.get $out) (i32.const 8)))
        `)}
      `)}
    `)})`;
}

/**
 * A counted loop in WebAssembly text: `for (v = init; v < bound; v += step) body`, the compare
 * unsigned, labelled $<label>done (break) and $<label>loop (continue) so the body can leave early.
 */
function loop(v: string, bound: string, body: string, o: { init?: string; step?: number; label?: string } = {}): string {
  const l = o.label ?? v;
  return `(local.set $${v} ${o.init ?? '(i32.const 0)'})
    (block $${l}done (loop $${l}loop
      (br_if $${l}done (i32.ge_u (local.get $${v}) ${bound}))${body}  (local.set $${v} (i32.add (local.get $${v}) (i32.const ${o.step ?? 1})))
      (br $${l}loop)))`;
}
