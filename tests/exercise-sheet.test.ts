/**
 * `exercise sheet --format html`: a self-contained page of a student's variants that checks
 * answers in the browser against salted PBKDF2 hashes, without the answers in it. Tested in
 * headless Chromium (Debian's, driven by playwright-core) and, without a browser, by recomputing
 * the hashes with Node's own PBKDF2.
 */
import { describe, expect, it } from 'vitest';
import { createDecipheriv, createHash, pbkdf2Sync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { getExercise, kindOf, variantParams } from '../src/exercises/bank.js';
import { sheetItems, ITERATIONS } from '../src/exercises/sheet.js';
import { cli as runCli } from './helpers/cli.js';

const ROOT = join(__dirname, '..');
const cli = (args: string[]) => runCli(args, { cwd: ROOT });
const ada = { student: 'ada' };
const answerOf = (id: string, v = ada) => kindOf(getExercise(id)).answer(variantParams(getExercise(id), v));
/** The page's derivation, written again: one PBKDF2 block, then SHA-256 of 1 (the id) or 2 (the key) and the bits. */
const part = (text: string, salt: string, n: number) => createHash('sha256').update(Buffer.concat([Buffer.from([n]), pbkdf2Sync(text, salt, ITERATIONS, 32, 'sha256')])).digest();
const hex = (text: string, salt: string) => part(text, salt, 1).toString('hex');
/** Opens a sealed diagnosis with the bits of the answer that unlocks it. */
function unseal(d: { iv: string; box: string }, key: string, salt: string): string {
  const box = Buffer.from(d.box, 'base64');
  const c = createDecipheriv('aes-256-gcm', part(key, salt, 2), Buffer.from(d.iv, 'base64'));
  c.setAuthTag(box.subarray(box.length - 16));
  return Buffer.concat([c.update(box.subarray(0, box.length - 16)), c.final()]).toString('utf8');
}

const IDS = ['params/10f5-total', 'output-size/7x7-k3-s1', 'pool/2x2-discarded', 'alexnet/conv1-parameters', 'by-hand/sobel', 'by-hand/batch-norm-y', 'vgg16/activations', 'by-hand/cross-entropy'];

describe('the self-check page', () => {
  it('holds salted PBKDF2-SHA-256 hashes of the canonical answers, not the answers', { timeout: 30000 }, async () => {
    const items = await sheetItems(ada, IDS, 'fixed-salt');
    const total = items.find((i) => i.id === 'params/10f5-total')!;
    const want = answerOf('params/10f5-total') as number;
    // the canonical form of an exact integer is "i" and its digits; the salt is the page's and the exercise's
    expect(total.salt).toBe('fixed-salt:params/10f5-total');
    expect(total.answer).toContain(hex(`i${want}`, total.salt));
    expect(total.answer).not.toContain(hex(`i${want + 1}`, total.salt));
    const ce = items.find((i) => i.id === 'by-hand/cross-entropy')!;
    expect(ce.answer).toContain(hex(`r${(answerOf('by-hand/cross-entropy') as number).toPrecision(4)}`, ce.salt));
    // each diagnosis is sealed under its wrong answer (to 3 digits): typing that answer opens it
    const p = variantParams(getExercise('params/10f5-total'), ada);
    const biasless = `i${want - p.filters}`;
    const d = total.diagnoses.find((x) => x.id === hex(biasless, total.salt))!;
    expect(unseal(d, biasless, total.salt)).toBe('Looks like you forgot the biases.');
    expect(() => unseal(d, `i${want}`, total.salt)).toThrow();
    const notes = await sheetItems({}, ['vgg16/activations'], 'fixed-salt');
    expect(unseal(notes[0].diagnoses[0], 'i24000000', notes[0].salt)).toContain('add up to 15,237,608 values');
    // another salt, other hashes: nothing to precompute across pages
    const again = await sheetItems(ada, ['params/10f5-total'], 'other-salt');
    expect(again[0].answer[0]).not.toBe(total.answer[0]);
  });

  it('the page written by the CLI does not contain the answers in clear', { timeout: 60000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sheet-'));
    const out = join(dir, 'sheet.html');
    expect((await cli(['exercise', 'sheet', '--format', 'html', '--out', out])).status).toBe(0);
    const html = readFileSync(out, 'utf8');
    // answers, and the errata's explanations that state them, are not in the page
    for (const n of [138357544, 138344128, 15237608, 105705600, 34944, 290400, 62378344, 60965224, 271351808, 526848])
      for (const form of [String(n), n.toLocaleString('en-US')]) expect(html.includes(form), `${form} in the page`).toBe(false);
    expect(html).not.toMatch(/-13, -20, -17/);
    expect(html).toContain('<script>');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!www\.w3)/); // self-contained
  });

  const chromium = existsSync('/usr/bin/chromium');
  if (!chromium) console.warn('\n*** SKIPPED: /usr/bin/chromium is missing; the self-check page is not tested in a browser ***\n');
  it.runIf(chromium)('checks answers in headless Chromium: right, the likely mistake, readings, hints, errata', async () => {
    const { chromium: browserType } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'sheet-'));
    const page0 = join(dir, 'notes.html');
    const pageAda = join(dir, 'ada.html');
    expect((await cli(['exercise', 'sheet', '--format', 'html', '--exercises', IDS.join(','), '--out', page0])).status).toBe(0);
    expect((await cli(['exercise', 'sheet', '--format', 'html', '--student', 'ada', '--exercises', IDS.join(','), '--out', pageAda])).status).toBe(0);
    const browser = await browserType.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => void (r.url().startsWith('file:') || requests.push(r.url())));
      const answerWith = async (id: string, text: string) => {
        const section = page.locator(`section.exercise[data-id="${id}"]`);
        await section.locator('input[name="answer"]').fill(text);
        await section.locator('button').click();
        await page.waitForFunction((i) => !document.querySelector(`section.exercise[data-id="${i}"] .feedback`)!.textContent!.startsWith('checking'), id);
        return { state: await section.getAttribute('data-state'), text: (await section.locator('.feedback').textContent())! };
      };

      await page.goto('file://' + pageAda);
      expect(await page.textContent('h1')).toBe('Worked exercises: ada’s variants');
      expect(await page.textContent('#score')).toBe(`0 of ${IDS.length} right`);
      // the student's own numbers are in the questions
      const p = variantParams(getExercise('params/10f5-total'), ada);
      expect(await page.textContent('section.exercise[data-id="params/10f5-total"] .question')).toContain(`${p.filters} filters of ${p.k}×${p.k}`);

      const total = answerOf('params/10f5-total') as number;
      expect(await answerWith('params/10f5-total', String(total))).toEqual({ state: 'right', text: 'right' });
      expect(await page.textContent('#score')).toBe(`1 of ${IDS.length} right`);
      expect(await answerWith('params/10f5-total', String(total - p.filters))).toEqual({ state: 'wrong', text: 'wrongLooks like you forgot the biases.' });
      expect((await answerWith('params/10f5-total', '1.2M')).text).toContain('Give the exact count, not a rounded one.');
      expect((await answerWith('params/10f5-total', total.toLocaleString('en-US'))).state).toBe('right');

      const w = answerOf('output-size/7x7-k3-s1') as number;
      expect(await answerWith('output-size/7x7-k3-s1', `${w}x${w}`)).toEqual({ state: 'right', text: `right(read ${w}x${w} as ${w}: the question asks for one number)` });
      expect((await answerWith('output-size/7x7-k3-s1', `${w}x${w + 1}`)).text).toContain('The question asks for one number; hint:');

      const pct = answerOf('pool/2x2-discarded') as number;
      expect((await answerWith('pool/2x2-discarded', String(pct / 100))).state).toBe('right');
      expect((await answerWith('pool/2x2-discarded', `${pct}%`)).state).toBe('right');

      const sobel = answerOf('by-hand/sobel') as number[][];
      expect((await answerWith('by-hand/sobel', JSON.stringify(sobel))).state).toBe('right');
      expect((await answerWith('by-hand/sobel', JSON.stringify(sobel.slice(0, 2)))).text).toContain('The shape is wrong: you gave 2×3 values');
      expect((await answerWith('by-hand/sobel', 'lots')).state).toBe('unread');

      const y = answerOf('by-hand/batch-norm-y') as number[][][];
      const bp = variantParams(getExercise('by-hand/batch-norm-y'), ada);
      // 4 significant digits, as the question says
      expect((await answerWith('by-hand/batch-norm-y', JSON.stringify(y.map((m) => m.map((r) => r.map((v) => Number(v.toPrecision(4)))))))).state).toBe('right');
      expect((await answerWith('by-hand/batch-norm-y', JSON.stringify(y.map((m) => m.map((r) => r.map((v) => v - bp.beta)))))).text).toContain('Looks like you forgot to add β.');

      await page.goto('file://' + page0);
      expect((await answerWith('vgg16/activations', '24M')).text).toContain('That is the value the notes give, and it is an erratum: The notes total the activations as about 24M values.');
      expect((await answerWith('alexnet/conv1-parameters', '34 944')).state).toBe('right');
      expect((await answerWith('by-hand/cross-entropy', '2.040')).state).toBe('right');
      expect((await answerWith('by-hand/cross-entropy', '-2.040')).text).toContain('Looks like you left out the minus sign');
      expect(requests).toEqual([]);
      await page.screenshot({ path: join(dir, 'sheet.png') });
    } finally {
      await browser.close();
    }
  }, 90000);
});
