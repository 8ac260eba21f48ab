/**
 * Reading and comparing answers as students write them. The same functions run in the CLI and,
 * serialised with Function.prototype.toString, in the browser page of `exercise sheet --format
 * html`, so both read an answer the same way and agree on what is right. That is why every function
 * here is self-contained: no imports, no module-level constants, only calls to each other.
 */

export type Answer = number | string | Answer[];

/** What a question states about its answer (none of it is the answer). */
export interface Expects {
  /** Integers are compared exactly (counts, sizes); other numbers to significant digits. */
  exact: boolean;
  /** One number is asked for (a width, a count), not a shape, list or matrix. */
  scalar: boolean;
  /** The answer is a percentage. */
  percent?: boolean;
  /** The unit the question asks in, which may follow the number ("MB"). */
  unit?: string;
}

export interface Reading {
  value: Answer;
  /** How the text was read, when it was not read literally (shown to the student). */
  notes: string[];
  /** Written with a K / M / G suffix (35K): a rounded count. */
  abbreviated?: boolean;
}

/** Significant digits a real answer is compared to; mistakes and errata are recognised to 3. */
export const ANSWER_DIGITS = 4;
export const MISTAKE_DIGITS = 3;

/**
 * Reads an answer: JSON (5, [32, 32, 10], [[1, 2], [3, 4]]), a tuple ((8, 8)), a shape (32x32x10,
 * 55.25×55.25×96), a list (0, 1, 2), thousands separators (138,344,128 or 34 944), a K / M / G
 * suffix (35K), a percentage (75%), the question's unit (61 MB), or "none" / "does not fit".
 * A shape of equal sides for a one-number question (5x5 for a width) is read as the side, and a
 * fraction for a percentage question (0.75) as the percentage, each with a note.
 */
export function readAnswer(text: string, ex: Expects): Reading {
  const notes: string[] = [];
  let t = String(text)
    .trim()
    .replace(/[\u2212\u2013]/g, '-')
    .replace(/[\u00a0\u2009\u202f]/g, ' ')
    .replace(/\u00d7/g, 'x');
  if (/^(none|no|does ?n[o']t fit|does not fit|it does not fit|n\/a)\.?$/i.test(t)) return { value: 'none', notes };
  if (ex.unit && t.toLowerCase().endsWith(ex.unit.toLowerCase())) t = t.slice(0, t.length - ex.unit.length).trim();
  let percentSign = false;
  if (/%$/.test(t)) {
    percentSign = true;
    t = t.slice(0, -1).trim();
  }
  if (/^\(.*\)$/.test(t)) t = t.replace(/\(/g, '[').replace(/\)/g, ']');
  let value: Answer | undefined;
  let abbreviated = false;
  const num = '-?(\\d+(\\.\\d*)?|\\.\\d+)([eE][-+]?\\d+)?';
  try {
    const v: unknown = JSON.parse(t);
    const ok = (x: unknown): boolean => (typeof x === 'number' && Number.isFinite(x)) || (Array.isArray(x) && x.length > 0 && x.every(ok));
    if (ok(v)) value = v as Answer;
  } catch {
    /* not JSON */
  }
  if (value === undefined) {
    const abbr = new RegExp(`^(${num})\\s*([kKmMgGbB])$`).exec(t);
    // thousands separators only where one number is asked for: elsewhere "1,000" is a list
    if (ex.scalar && /^-?\d{1,3}([,_ ]\d{3})+(\.\d+)?$/.test(t) && new Set(t.replace(/[-\d.]/g, '')).size === 1) value = Number(t.replace(/[,_ ]/g, ''));
    else if (abbr) {
      const exp: Record<string, number> = { k: 3, m: 6, g: 9, b: 9 };
      value = Number(`${abbr[1]}e${exp[abbr[5].toLowerCase()]}`);
      abbreviated = true;
    } else if (new RegExp(`^${num}(\\s*[xX*]\\s*${num})+$`).test(t)) value = t.split(/\s*[xX*]\s*/).map(Number);
    else if (new RegExp(`^\\[?\\s*${num}(\\s*[,;\\s]\\s*${num})+\\s*\\]?$`).test(t)) value = t.replace(/[[\]]/g, '').trim().split(/[\s,;]+/).map(Number);
    else if (new RegExp(`^${num}$`).test(t)) value = Number(t);
  }
  if (value === undefined) throw new Error(`could not read the answer ${JSON.stringify(text)}: give a number, a shape like 32x32x10, a list like 0, 2, a matrix like [[1, 2], [3, 4]], or "none"`);
  if (ex.scalar && Array.isArray(value)) {
    const first = value[0];
    if (value.length === 1) value = first;
    else if (typeof first === 'number' && value.every((v) => v === first)) {
      notes.push(`read ${text.trim()} as ${first}: the question asks for one number`);
      value = first;
    }
  }
  if (ex.percent && !percentSign && typeof value === 'number' && value > 0 && value <= 1 && /\./.test(t)) {
    const pct = Number((value * 100).toPrecision(12));
    notes.push(`read ${t} as ${pct} %`);
    value = pct;
  }
  return { value, notes, ...(abbreviated ? { abbreviated } : {}) };
}

/**
 * The canonical text of a number: an exact integer (when integers are exact), or the value to
 * `digits` significant digits (toPrecision, the same in every JavaScript engine); values within
 * 5e-5 of 0 are 0.
 */
export function numberKey(x: number, exact: boolean, digits: number): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'n' + String(x);
  if (exact && Number.isInteger(x)) return 'i' + String(x);
  if (Math.abs(x) < 5e-5) return 'r0';
  return 'r' + x.toPrecision(digits);
}

/** The canonical text of a student's answer. */
export function answerKey(a: Answer, exact: boolean, digits: number): string {
  if (Array.isArray(a)) return '[' + a.map((x) => answerKey(x, exact, digits)).join(',') + ']';
  if (typeof a === 'string') return 's' + a.toLowerCase();
  return numberKey(a, exact, digits);
}

/**
 * Every canonical text that counts as the true value `a`: each real entry rounded to `digits`
 * significant digits, and where the true value lies within a twentieth of a unit of the last digit
 * from a rounding boundary, the rounding on the other side too (so a correct answer is never
 * refused for rounding the other way). Real matrices multiply out; past 256 combinations only the
 * plain rounding is kept.
 */
export function answerKeys(a: Answer, exact: boolean, digits: number): string[] {
  if (Array.isArray(a)) {
    let acc = [''];
    let full = true;
    const parts = a.map((x) => answerKeys(x, exact, digits));
    for (const p of parts) {
      if (acc.length * p.length > 256) full = false;
      const next: string[] = [];
      for (const head of acc) for (const k of full ? p : p.slice(0, 1)) next.push(head === '' ? k : head + ',' + k);
      acc = next.length ? next : acc;
    }
    if (!full) acc = [parts.map((p) => p[0]).join(',')];
    return acc.map((k) => '[' + k + ']');
  }
  if (typeof a === 'string') return ['s' + a.toLowerCase()];
  const k = numberKey(a, exact, digits);
  if (k[0] !== 'r' || k === 'r0') return [k];
  const unit = Math.pow(10, Math.floor(Math.log10(Math.abs(a))) - digits + 1);
  const keys = [k];
  for (const d of [-unit / 20, unit / 20]) {
    const k2 = numberKey(a + d, exact, digits);
    if (!keys.includes(k2)) keys.push(k2);
  }
  return keys;
}

/** The shape of an answer: [] for one number or word, the sizes of a (rectangular) list or matrix. */
export function shapeOf(a: Answer): number[] | 'ragged' {
  if (!Array.isArray(a)) return [];
  const inner = a.map(shapeOf);
  const first = JSON.stringify(inner[0]);
  if (inner.some((s) => s === 'ragged' || JSON.stringify(s) !== first)) return 'ragged';
  return [a.length, ...(inner[0] as number[])];
}

/** The canonical text of an answer's shape. */
export function shapeKey(a: Answer): string {
  const s = shapeOf(a);
  return s === 'ragged' ? 'ragged' : 'shape:' + s.join('x');
}

/** Is `got` the answer `want`, to `digits` significant digits (integers exact when `exact`)? */
export function sameAnswer(got: Answer, want: Answer, exact: boolean, digits = 4): boolean {
  return answerKeys(want, exact, digits).includes(answerKey(got, exact, digits));
}
