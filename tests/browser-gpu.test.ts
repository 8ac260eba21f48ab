/**
 * The accelerated backend's gpu.js kernels in a browser: kernels/ops.ts is bundled (esbuild) with
 * gpu.js's browser build, run in headless Chromium (Debian's, driven by playwright-core) on WebGL
 * rendered by SwiftShader, and each result is checked against the exact reference within the
 * float32 bound, as tests/accelerated.test.ts does in Node. Skipped, loudly, without Chromium.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { compareArrays, describeMismatch, fromData, getOp, resolveParams, Rng, type Inputs } from '../src/index.js';
import { allowances } from '../src/judge/index.js';
import { convGeometry } from '../src/ops/conv.js';
import { poolGeometry } from '../src/ops/pooling.js';

const CHROMIUM = '/usr/bin/chromium';
const chromium = existsSync(CHROMIUM);
if (!chromium) console.warn(`\n*** SKIPPED: ${CHROMIUM} is missing; the gpu.js kernels are not tested on WebGL in a browser ***\n`);

const root = fileURLToPath(new URL('..', import.meta.url));

/** kernels/ops.ts for the browser, one script: `gpu.js` resolves to the browser build's global. */
async function bundle(): Promise<string> {
  const { build } = await import('esbuild');
  const r = await build({
    stdin: { contents: "export * as ops from './kernels/ops.ts'; export { fromData } from './src/tensor.ts'; export { backendInfo } from './kernels/backend.ts';", resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'iife',
    globalName: 'oracle',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    plugins: [{ name: 'gpu.js-global', setup: (b) => {
      b.onResolve({ filter: /^gpu\.js$/ }, () => ({ path: 'gpu.js', namespace: 'global' }));
      b.onLoad({ filter: /.*/, namespace: 'global' }, () => ({ contents: 'export default globalThis.GPU;', loader: 'js' }));
    } }],
  });
  return r.outputFiles[0].text;
}

describe.runIf(chromium)('gpu.js kernels on WebGL in headless Chromium (SwiftShader) agree with the exact reference', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    const { chromium: browserType } = await import('playwright-core');
    browser = await browserType.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage();
    const require = createRequire(import.meta.url);
    await page.addScriptTag({ content: readFileSync(require.resolve('gpu.js/dist/gpu-browser.min.js'), 'utf8') });
    await page.addScriptTag({ content: await bundle() });
  }, 60000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Runs kernels/ops.ts's `fn` in the page on float64 copies of the inputs; the result as plain arrays. */
  async function inPage(fn: string, inputs: Inputs, names: string[], extra: unknown[]): Promise<{ y: number[]; shape: number[]; kernelClass: string }> {
    const args = names.map((n) => (inputs[n] ? { data: Array.from(inputs[n].data as Float64Array), shape: inputs[n].shape } : null));
    return page.evaluate(
      ({ fn, args, extra }) => {
        const o = (globalThis as unknown as { oracle: { ops: Record<string, (...a: unknown[]) => unknown>; fromData: (d: number[], s: number[]) => unknown; backendInfo: () => { kernelClass: string } } }).oracle;
        const arrs = args.map((a) => (a ? o.fromData(a.data, a.shape) : undefined));
        const r = o.ops[fn](...arrs, ...extra) as { data: Float64Array; shape: number[] } | { y: { data: Float64Array; shape: number[] } };
        const y = 'y' in r ? r.y : r;
        return { y: Array.from(y.data), shape: y.shape, kernelClass: o.backendInfo().kernelClass };
      },
      { fn, args, extra },
    );
  }

  async function agree(name: string, fn: string, inputs: Inputs, params: Record<string, unknown>, names: string[], extra: (p: ReturnType<typeof resolveParams>) => unknown[]): Promise<void> {
    const op = getOp(name);
    const p = resolveParams(op, params);
    const want = op.reference(inputs, p);
    const got = await inPage(fn, inputs, names, extra(p));
    expect(got.kernelClass, 'gpu.js ran on WebGL').toMatch(/^WebGL2?Kernel$/);
    expect(got.shape).toEqual(want.y.shape);
    const allowed = allowances(op, inputs, p, want, { kind: 'bound', precision: 'float32' });
    const m = compareArrays(fromData(got.y, got.shape), want.y, allowed.y);
    expect(m.ok, `${name} ${JSON.stringify(params)}: ${describeMismatch('y', m)}`).toBe(true);
  }

  const rng = new Rng('browser-gpu');
  const rand = (shape: number[]) => fromData(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.float32(2)), shape);

  it('reports a WebGL kernel class (not gpu.js’s CPU fallback)', async () => {
    const info = await page.evaluate(() => (globalThis as unknown as { oracle: { backendInfo: () => { kernelClass: string } } }).oracle.backendInfo());
    console.log(`accelerated backend in Chromium: ${info.kernelClass}`);
    expect(info.kernelClass).toMatch(/^WebGL2?Kernel$/);
  });

  it('conv2d: padding, stride, groups, bias', async () => {
    for (const [x, w, b, params] of [
      [rand([2, 3, 9, 9]), rand([8, 3, 3, 3]), rand([8]), { padding: 1 }],
      [rand([1, 4, 11, 10]), rand([6, 2, 3, 3]), undefined, { stride: 2, groups: 2 }],
      [rand([1, 3, 6, 6]), rand([5, 3, 2, 2]), rand([5]), { dilation: 2, padding: 'same' }],
    ] as const) {
      const inputs: Inputs = b ? { x, weight: w, bias: b } : { x, weight: w };
      await agree('conv2d', 'conv2d', inputs, params, ['x', 'weight', 'bias'], (p) => [convGeometry(p, w.shape.slice(2), 2)]);
    }
  }, 60000);

  it('linear, softmax and maxPool2d', async () => {
    await agree('linear', 'linear', { x: rand([5, 300]), weight: rand([7, 300]), bias: rand([7]) }, {}, ['x', 'weight', 'bias'], () => []);
    await agree('softmax', 'softmax', { x: rand([4, 50]) }, { dim: 1 }, ['x'], (p) => [p.dim]);
    await agree('softmax', 'softmax', { x: fromData([1000, 1001, 1002, -1000], [2, 2]) }, { dim: 0 }, ['x'], (p) => [p.dim]);
    await agree('maxPool2d', 'maxPool2d', { x: rand([1, 3, 9, 8]) }, { kernelSize: 3, stride: 2, padding: 1 }, ['x'], (p) => [poolGeometry(p, 2), false]);
  }, 60000);
});
