/**
 * `cnn-oracle exercise sheet`: a student's variants as a printable text sheet, or as one
 * self-contained HTML page that checks answers in the browser without holding them.
 *
 * The page stores, per exercise, salted PBKDF2-SHA-256 hashes of the canonical forms of the
 * answer and of each likely wrong answer (as okpy's locked tests and nbgrader's hashed autotests
 * store hashes, not values). The browser reads the student's answer with the same functions as
 * `check` (answers.ts, serialised into the page), derives PBKDF2 bits from its canonical form and
 * the exercise's salt, and compares their id with the stored ones. A diagnosis is stored encrypted
 * (AES-256-GCM) under a key from its wrong answer's bits, so it can be read only by typing that
 * answer: an erratum's explanation, which states the right value, is not in the
 * page in clear. See the README ("The self-check page") for what that protects and what not.
 */
import { createCipheriv, createHash, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Mustache from 'mustache';
import { answerKey, answerKeys, numberKey, readAnswer, shapeKey, shapeOf, ANSWER_DIGITS, MISTAKE_DIGITS, type Expects } from './answers.js';
import { expectsOf, getExercise, isVariantZero, kindOf, loadBank, questionText, tellableMistakes, titleText, toleranceText, variantParams, type Exercise, type VariantChoice } from './bank.js';

/**
 * PBKDF2 iterations per hash: a derivation takes about 6 ms in Chromium (a check makes two or
 * three), a page of the whole bank about 2 s to write, and every guess at an answer 20,000 SHA-256
 * rounds. That slows down trying candidates; it cannot stop it for answers with few candidates.
 */
export const ITERATIONS = 20000;

const derive = promisify(pbkdf2);
/**
 * One 256-bit PBKDF2 block per answer, split by SHA-256 into the id that names the answer in the
 * page (SHA-256 of 1 and the bits) and the key that opens its diagnosis (SHA-256 of 2 and the bits).
 */
async function bitsOf(key: string, salt: string): Promise<{ id: string; aes: Buffer }> {
  const bits = await derive(key, salt, ITERATIONS, 32, 'sha256');
  const part = (n: number) => createHash('sha256').update(Buffer.concat([Buffer.from([n]), bits])).digest();
  return { id: part(1).toString('hex'), aes: part(2) };
}
const idOf = async (key: string, salt: string) => (await bitsOf(key, salt)).id;

/** A diagnosis sealed under the key of its wrong answer (AES-256-GCM; the tag follows the ciphertext, as WebCrypto wants). */
async function sealed(key: string, salt: string, text: string): Promise<Sealed> {
  const { id, aes } = await bitsOf(key, salt);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', aes, iv);
  const box = Buffer.concat([c.update(text, 'utf8'), c.final(), c.getAuthTag()]);
  return { id, iv: iv.toString('base64'), box: box.toString('base64') };
}

export interface Sealed {
  id: string;
  iv: string;
  box: string;
}

export interface SheetItem {
  id: string;
  title: string;
  question: string;
  tolerance: string;
  expects: Expects;
  salt: string;
  /** Ids of the accepted canonical answers (4 significant digits; integers exact). */
  answer: string[];
  /** Id of the answer's shape, to say "the shape is wrong" without giving the shape. */
  shape: string;
  /** The erratum and the likely mistakes (to 3 significant digits), in the order `check` tries them, each sealed. */
  diagnoses: Sealed[];
  hint: string;
}

/** The exercises of a sheet: all of the bank, or the ids given. */
const sheetExercises = (ids?: string[]): Exercise[] => (ids ? ids.map(getExercise) : loadBank());

export async function sheetItems(v: VariantChoice, ids?: string[], pageSalt = randomBytes(16).toString('hex')): Promise<SheetItem[]> {
  return Promise.all(
    sheetExercises(ids).map(async (e) => {
      const k = kindOf(e);
      const p = variantParams(e, v);
      const want = k.answer(p);
      const salt = `${pageSalt}:${e.id}`;
      const told = [
        ...(e.erratum && isVariantZero(v) ? [{ value: e.erratum.deckValue, text: `That is the value the notes give, and it is an erratum: ${e.erratum.explanation}` }] : []),
        ...tellableMistakes(k.mistakes(p), want, k.exact).map((m) => ({ value: m.value, text: `Looks like you ${m.label}.` })),
      ];
      return {
        id: e.id,
        title: titleText(e, v),
        question: questionText(e, v).replace(/\n\(Tolerance: .*\)$/, ''),
        tolerance: toleranceText(k),
        expects: expectsOf(e, p),
        salt,
        answer: await Promise.all(answerKeys(want, k.exact, ANSWER_DIGITS).map((key) => idOf(key, salt))),
        shape: await idOf(shapeKey(want), salt),
        diagnoses: (await Promise.all(told.map((t) => Promise.all(answerKeys(t.value, k.exact, MISTAKE_DIGITS).map((key) => sealed(key, salt, t.text)))))).flat(),
        hint: k.hint(p),
      };
    }),
  );
}

const who = (v: VariantChoice) => (v.student !== undefined ? `${v.student}’s variants` : isVariantZero(v) ? 'the notes’ own numbers' : `variant ${v.seed}`);

/** The questions, numbered, for printing or handing out. */
export function sheetText(v: VariantChoice, ids?: string[]): string {
  const lines = [`Worked exercises: ${who(v)}`, ''];
  sheetExercises(ids).forEach((e, i) => lines.push(`${i + 1}. ${e.id}: ${titleText(e, v)}`, `   ${questionText(e, v).replace(/\n/g, '\n   ')}`, ''));
  return lines.join('\n');
}

/**
 * The browser side: the answer-reading functions of answers.ts as they are compiled (so the page
 * and `check` read answers alike), and the checking of one answer against one exercise's hashes.
 */
const CLIENT = `
${[readAnswer, numberKey, answerKey, shapeOf, shapeKey].map((f) => f.toString()).join('\n')}
async function bitsOf(text, salt) {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', enc.encode(text), 'PBKDF2', false, ['deriveBits']);
  const bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: enc.encode(salt), iterations: SHEET.iterations }, key, 256));
  const part = async (n) => new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array([n, ...bits])));
  return { id: hex(await part(1)), aes: await part(2) };
}
const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
async function unseal(d, aes) {
  const key = await crypto.subtle.importKey('raw', aes, 'AES-GCM', false, ['decrypt']);
  return new TextDecoder().decode(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: bytes(d.iv) }, key, bytes(d.box)));
}
async function checkItem(item, text) {
  let r;
  try {
    r = readAnswer(text, item.expects);
  } catch (e) {
    return { state: 'unread', lines: [e.message] };
  }
  const lines = r.notes.map((n) => '(' + n + ')');
  const b4 = await bitsOf(answerKey(r.value, item.expects.exact, ${ANSWER_DIGITS}), item.salt);
  if (item.answer.includes(b4.id)) return { state: 'right', lines };
  const b3 = await bitsOf(answerKey(r.value, item.expects.exact, ${MISTAKE_DIGITS}), item.salt);
  const d = item.diagnoses.find((x) => x.id === b3.id);
  if (d) return { state: 'wrong', lines: lines.concat([await unseal(d, b3.aes)]) };
  if (r.abbreviated) return { state: 'wrong', lines: lines.concat(['Give the exact count, not a rounded one.']) };
  if ((await bitsOf(shapeKey(r.value), item.salt)).id !== item.shape) {
    const s = shapeOf(r.value);
    const gave = s === 'ragged' ? 'rows of different lengths' : s.length ? s.join('×') + ' values' : 'one number';
    return { state: 'wrong', lines: lines.concat([item.expects.scalar ? 'The question asks for one number; hint: ' + item.hint + '.' : 'The shape is wrong: you gave ' + gave + '; hint: ' + item.hint + '.']) };
  }
  return { state: 'wrong', lines: lines.concat(['Hint: ' + item.hint + '.']) };
}
function score() {
  const right = document.querySelectorAll('section.exercise[data-state="right"]').length;
  document.getElementById('score').textContent = right + ' of ' + SHEET.items.length + ' right';
}
document.querySelectorAll('section.exercise').forEach((section, i) => {
  const form = section.querySelector('form');
  const out = section.querySelector('.feedback');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = form.elements.answer.value;
    out.textContent = 'checking…';
    const r = await checkItem(SHEET.items[i], text);
    section.dataset.state = r.state;
    out.textContent = '';
    const head = document.createElement('strong');
    head.textContent = r.state === 'right' ? 'right' : r.state === 'wrong' ? 'wrong' : 'could not read that';
    out.append(head);
    for (const l of r.lines) {
      const p = document.createElement('p');
      p.textContent = l;
      out.append(p);
    }
    score();
  });
});
score();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Worked exercises: {{who}}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.05rem; margin: 0 0 .3rem; }
section.exercise { border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
section.exercise[data-state="right"] { border-color: #2a7; background: #f3fbf6; }
section.exercise[data-state="wrong"] { border-color: #d64; background: #fdf6f3; }
.tolerance, .about { color: #666; font-size: .9rem; }
input[name="answer"] { font: inherit; width: 60%; padding: .2rem .4rem; }
.feedback p { margin: .2rem 0; }
#score { font-weight: 600; }
</style>
</head>
<body>
<h1>Worked exercises: {{who}}</h1>
<p class="about">Answers are checked in this page, against salted hashes: nothing is sent anywhere. Write answers as for <code>cnn-oracle exercise check</code>: 5, 32x32x10, 0, 2, [[1, 2], [3, 4]], 75%, none. The worked solutions: <code>cnn-oracle exercise solve ID{{flags}}</code>.</p>
<p id="score"></p>
{{#items}}
<section class="exercise" id="ex-{{n}}" data-id="{{id}}">
<h2>{{n}}. {{title}}</h2>
<p class="question">{{question}}</p>
<p class="tolerance">{{id}} · tolerance: {{tolerance}}</p>
<form><input name="answer" aria-label="answer to {{id}}" autocomplete="off"> <button type="submit">Check</button></form>
<div class="feedback" aria-live="polite"></div>
</section>
{{/items}}
<script>
const SHEET = {{{data}}};
{{{client}}}
</script>
</body>
</html>
`;

export async function sheetHtml(v: VariantChoice, flags: string, ids?: string[]): Promise<string> {
  const items = await sheetItems(v, ids);
  const data = JSON.stringify({ iterations: ITERATIONS, items }).replace(/</g, '\\u003c');
  return Mustache.render(PAGE, { who: who(v), flags, items: items.map((it, i) => ({ ...it, n: i + 1 })), data, client: CLIENT });
}
