/**
 * The one validation path, fuzzed: the bundled fixtures mutated by fast-check (fixed seeds) into
 * malformed, extreme and hostile cases, run through the same entry points as `eval`. Asserts that
 * nothing crashes or runs away (a small budget is set, so any case the budget misses shows up as a
 * slow test rather than a hang of hours), that every rejection is an OracleError naming the JSON
 * pointer of a field the case has or should have, and that every fast backend accepts and rejects
 * exactly what the reference does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { evaluateRaw, parseCases, type RawCase } from '../src/cases.js';
import { getOp, kernelOf } from '../src/registry.js';
import { resetBudget, setBudget } from '../src/validate.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const FIXTURES = join(__dirname, '..', 'fixtures');
const seeds: { [k: string]: Json }[] = [];
for (const family of readdirSync(FIXTURES)) {
  for (const f of readdirSync(join(FIXTURES, family))) {
    for (const line of readFileSync(join(FIXTURES, family, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const c = JSON.parse(line) as { [k: string]: Json };
      // keep the fuzzed cases small: the point is validation, not arithmetic
      if (line.length < 4000) seeds.push(c);
    }
  }
}

/** A number JSON cannot hold: written into the text as 1e400, which JSON.parse reads as Infinity. */
const OVERFLOW = '__fuzz_overflow__';
/** 100,000 nested arrays, written into the text (building them as objects would overflow the stack here). */
const DEEP = '__fuzz_deep__';

const weird: Json[] = [0, -1, 1, 2, 1.5, -0.5, 1e9, 2 ** 31, -(2 ** 31), 1e308, OVERFLOW, 'same', 'valid', 'x', '', null, true, false, [], [0], [1, 2], [1, 2, 3], [0, 0, 0, 0], [1e9, 1e9], {}, { a: 1 }];
const weirdValues: Json[] = ['NaN', 'Infinity', '-Infinity', '-0', 1e308, -1e308, 1e9, -1e9, 0, 0.5, 'x', null, true, OVERFLOW];

type Mutation = (c: { [k: string]: Json }, pick: (n: number) => number) => void;

const keysOf = (o: Json | undefined): string[] => (o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : []);
const obj = (c: { [k: string]: Json }, k: string): { [k: string]: Json } => {
  if (!c[k] || typeof c[k] !== 'object' || Array.isArray(c[k])) c[k] = {};
  return c[k] as { [k: string]: Json };
};
const tensorOf = (c: { [k: string]: Json }, pick: (n: number) => number): { [k: string]: Json } | undefined => {
  const names = keysOf(c.inputs);
  if (!names.length) return undefined;
  return (c.inputs as { [k: string]: { [k: string]: Json } })[names[pick(names.length)]];
};

const MUTATIONS: [string, Mutation][] = [
  ['param set', (c, pick) => {
    const op = typeof c.op === 'string' ? safeOp(c.op) : undefined;
    const names = [...new Set([...keysOf(c.params), ...(op?.params.map((p) => p.name) ?? [])])];
    if (names.length) obj(c, 'params')[names[pick(names.length)]] = weird[pick(weird.length)];
  }],
  ['param dropped', (c, pick) => {
    const names = keysOf(c.params);
    if (names.length) delete (c.params as { [k: string]: Json })[names[pick(names.length)]];
  }],
  ['param unknown', (c) => void (obj(c, 'params').fuzzParam = 1)],
  ['param forbidden key', (c, pick) => void (obj(c, 'params')[['__proto__', 'constructor', 'prototype'][pick(3)]] = 1)],
  ['input forbidden key', (c, pick) => {
    const t = tensorOf(c, pick);
    const inputs = obj(c, 'inputs');
    const names = keysOf(inputs);
    if (t && names.length) {
      delete inputs[names[0]];
      inputs[['__proto__', 'constructor'][pick(2)]] = t;
    }
  }],
  ['expected forbidden key', (c) => void (c.expected = JSON.parse('{"__proto__": {"shape": [1], "data": [0]}}') as Json)],
  ['input dropped', (c, pick) => {
    const names = keysOf(c.inputs);
    if (names.length) delete (c.inputs as { [k: string]: Json })[names[pick(names.length)]];
  }],
  ['input renamed', (c, pick) => {
    const inputs = obj(c, 'inputs');
    const names = keysOf(inputs);
    if (names.length) {
      const n = names[pick(names.length)];
      inputs.fuzzInput = inputs[n];
      delete inputs[n];
    }
  }],
  ['shape dim changed', (c, pick) => {
    const t = tensorOf(c, pick);
    if (!t || !Array.isArray(t.shape) || !t.shape.length) return;
    const s = t.shape as number[];
    const a = pick(s.length);
    const d = [0, 1, s[a] + 1, s[a] - 1, 1e9, -1][pick(6)];
    s[a] = d;
    // keep data consistent half the time, so the op's own checks are reached
    if (pick(2) === 0 && Array.isArray(t.data) && d >= 0 && d < 64) {
      const n = s.reduce((x, y) => x * y, 1);
      if (n <= 4096) t.data = Array.from({ length: n }, (_, i) => ((t.data as Json[])[i % Math.max((t.data as Json[]).length, 1)] ?? 0) as Json);
    }
  }],
  ['rank changed', (c, pick) => {
    const t = tensorOf(c, pick);
    if (!t || !Array.isArray(t.shape)) return;
    if (pick(2) === 0) (t.shape as number[]).push(1);
    else if ((t.shape as number[]).length) {
      const s = t.shape as number[];
      const last = s.pop()!;
      if (s.length) s[s.length - 1] *= last;
    }
  }],
  ['data value', (c, pick) => {
    const t = tensorOf(c, pick);
    if (!t || !Array.isArray(t.data) || !t.data.length) return;
    (t.data as Json[])[pick(t.data.length)] = weirdValues[pick(weirdValues.length)];
  }],
  ['data all extreme', (c, pick) => {
    const t = tensorOf(c, pick);
    if (!t || !Array.isArray(t.data)) return;
    const v = [1e308, -1e308, 'NaN', 'Infinity', 1e9][pick(5)];
    t.data = (t.data as Json[]).map(() => v);
  }],
  ['dtype changed', (c, pick) => {
    const t = tensorOf(c, pick);
    if (t) t.dtype = ['float64', 'float32', 'int64', 'int32', 'bool', 'float16'][pick(6)];
  }],
  ['tensor field', (c, pick) => {
    const t = tensorOf(c, pick);
    if (!t) return;
    const f = ['shape', 'data'][pick(2)];
    t[f] = weird[pick(weird.length)];
  }],
  ['op changed', (c, pick) => void (c.op = ['conv3d', 'Conv2d', '', 'toString', '__proto__'][pick(5)])],
  ['tolerance', (c, pick) => void (c.tolerance = [{ rtol: -1 }, { atol: OVERFLOW }, { ulp: 'x' }, { fuzz: 1 }][pick(4)] as Json)],
  ['deep nesting', (c) => {
    obj(c, 'params').deep = DEEP;
  }],
];

function safeOp(name: string) {
  try {
    return getOp(name);
  } catch {
    return undefined;
  }
}

/** The case as the text a file would hold (the overflow token becomes a literal 1e400). */
function toText(c: Json): string {
  return JSON.stringify(c).replaceAll(JSON.stringify(OVERFLOW), '1e400').replaceAll(JSON.stringify(DEEP), '['.repeat(100_000) + '1' + ']'.repeat(100_000));
}

const arbCase = fc
  .record({
    seed: fc.integer({ min: 0, max: seeds.length - 1 }),
    muts: fc.array(fc.record({ m: fc.integer({ min: 0, max: MUTATIONS.length - 1 }), picks: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }) }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ seed, muts }) => {
    const c = structuredClone(seeds[seed]);
    const names: string[] = [];
    for (const { m, picks } of muts) {
      let k = 0;
      const pick = (n: number) => picks[k++ % picks.length] % Math.max(n, 1);
      MUTATIONS[m][1](c, pick);
      names.push(MUTATIONS[m][0]);
    }
    return { text: toText(c), op: String(c.op), what: `${String(seeds[seed].id)} + ${names.join(', ')}` };
  });

function rawOf(text: string): RawCase {
  const rs = parseCases(text, 'fuzz.json');
  expect(rs).toHaveLength(1);
  return rs[0];
}

type Result = Awaited<ReturnType<typeof evaluateRaw>>['result'];

function expectNamedRejection(r: Result, what: string): void {
  if (!r.error) return;
  expect(r.error.code, `${what}: ${r.error.message}`).not.toBe('INTERNAL');
  expect(r.error.message, what).not.toMatch(/Cannot read|undefined|is not a function|Invalid typed array|Maximum call stack/);
  if (r.error.code !== 'INVALID_JSON') expect(r.error.path, `${what}: ${r.error.code} ${r.error.message}`).toMatch(/^\/./);
}

beforeAll(() => {
  // small enough that a case the validation lets through cannot run for long
  setBudget({ maxElements: 2 ** 20, maxWork: 2 ** 24 });
});
afterAll(() => resetBudget()); // back to the default (or the environment's), read afresh

describe('fuzzed fixtures', () => {
  it('has fixtures to mutate', () => expect(seeds.length).toBeGreaterThan(100));

  it('the reference never crashes: every rejection is a named error', async () => {
    const samples = fc.sample(arbCase, { seed: 20261202, numRuns: 1500 });
    let rejected = 0;
    for (const { text, what } of samples) {
      const { result } = await evaluateRaw(rawOf(text), 'reference');
      if (result.error) rejected++;
      expectNamedRejection(result, what);
    }
    // most mutations must be rejected, or the fuzzer is not reaching the validation
    expect(rejected).toBeGreaterThan(samples.length / 2);
  }, 120_000);

  for (const backend of ['simd', 'accelerated'] as const) {
    it(`${backend} accepts and rejects exactly what the reference does`, async () => {
      const ops = new Set(seeds.map((s) => String(s.op)).filter((o) => safeOp(o) && kernelOf(o, backend)));
      const pool = fc.sample(arbCase, { seed: backend === 'simd' ? 7 : 11, numRuns: 4000 }).filter(({ op }) => ops.has(op));
      const samples = pool.slice(0, backend === 'simd' ? 600 : 150);
      expect(samples.length).toBeGreaterThan(100);
      for (const { text, what } of samples) {
        const ref = (await evaluateRaw(rawOf(text), 'reference')).result;
        const fast = (await evaluateRaw(rawOf(text), backend)).result;
        expectNamedRejection(fast, `${backend}: ${what}`);
        expect(Boolean(fast.error), `${what}: reference ${ref.error ? `rejects (${ref.error.path}: ${ref.error.message})` : 'accepts'}, ${backend} ${fast.error ? `rejects (${fast.error.path}: ${fast.error.message})` : 'accepts'}`).toBe(Boolean(ref.error));
        if (ref.error && fast.error) expect(fast.error.path, what).toBe(ref.error.path);
      }
    }, 300_000);
  }

  it('a failed case does not poison the next one (gpu.js kernel cache)', async () => {
    const good = seeds.find((s) => s.op === 'conv2d' && String(s.id).includes('random'))!;
    const bad = structuredClone(good);
    ((bad.inputs as { [k: string]: { [k: string]: Json } }).weight.data as Json[])[0] = 'NaN';
    (bad.params as { [k: string]: Json }).padding = 1e9;
    for (const backend of ['simd', 'accelerated'] as const) {
      const before = (await evaluateRaw(rawOf(JSON.stringify(good)), backend)).result;
      expect(before.error, backend).toBeUndefined();
      const failed = (await evaluateRaw(rawOf(JSON.stringify(bad)), backend)).result;
      expect(failed.error?.code, backend).toBe('TOO_LARGE');
      const after = (await evaluateRaw(rawOf(JSON.stringify(good)), backend)).result;
      expect(after, backend).toEqual(before);
    }
  });
});
