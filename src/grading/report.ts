/**
 * Writing a GradeResult: a terminal report, JSON, Gradescope and PrairieLearn results.json,
 * JUnit XML, GitHub Classroom's runner result, and a self-contained HTML report with heatmaps of
 * expected / got / difference.
 *
 * Every format is written for an audience. For students (the default of `grade`), a test whose
 * visibility does not allow it yet (`hidden`, `after_due_date`, `after_published`, unless
 * `--reveal` names it) shows nothing of its cases, values or points; only Gradescope, which enforces
 * each test's visibility itself, gets those tests whole, with their visibility set. For instructors
 * (`--audience instructor`, the default of `grade-all`) everything is shown.
 */
import { createRequire } from 'node:module';
import pc from 'picocolors';
import Mustache from 'mustache';
import type * as XmlBuilder from 'xmlbuilder2';
import { decodeTensor, stringify, type TensorJSON } from '../tensor.js';
import { timesAllowance } from '../judge/index.js';
import type { Visibility } from './assignment.js';
import type { CaseResult, GradeResult, TestResult } from './grade.js';
import type { Audience, Format } from './names.js';

export { AUDIENCES, FORMATS, type Audience, type Format } from './names.js';

export interface RenderOptions {
  audience: Audience;
  /** Visibilities that count as visible now (e.g. after_due_date once the deadline has passed). */
  reveal: Visibility[];
}
export const STUDENT_VIEW: RenderOptions = { audience: 'student', reveal: [] };
export const INSTRUCTOR_VIEW: RenderOptions = { audience: 'instructor', reveal: [] };

/** The file extension of each format (grade-all --out-dir). */
export const EXTENSIONS: Record<Format, string> = { text: 'txt', json: 'json', gradescope: 'json', prairielearn: 'json', junit: 'xml', classroom: 'json', html: 'html' };

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Whether a test's cases, values and points may be shown to this audience now. */
export function shown(t: TestResult, o: RenderOptions): boolean {
  return o.audience === 'instructor' || t.visibility === 'visible' || o.reveal.includes(t.visibility);
}

const WHEN: Record<Visibility, string> = { visible: '', hidden: 'hidden', after_due_date: 'shown after the due date', after_published: 'shown once grades are published' };

/** The tests a format may show, those it must keep back, and the score over the ones it shows. */
function view(r: GradeResult, o: RenderOptions) {
  const open = r.tests.filter((t) => shown(t, o));
  const closed = r.tests.filter((t) => !shown(t, o));
  return { open, closed, score: open.reduce((s, t) => s + t.score, 0), max: open.reduce((s, t) => s + t.maxScore, 0) };
}

/** Why a result has no score: the student's problems first, then the grader's. */
export function whyNotGradable(r: GradeResult): string[] {
  return [...r.formatErrors.map((e) => `The submission could not be graded: ${e}`), ...r.graderErrors.map((e) => `The grader could not run the submission: ${e}`)];
}

/** A failing case in words: its rung message, diagnosis, and shrunk reproducer. */
export function caseFeedback(c: CaseResult, withDiagnosis = true): string {
  const lines = [`case ${c.id}: ${c.message ?? 'failed'}`];
  if (c.diagnosis && withDiagnosis) lines.push(`  Looks like: ${c.diagnosis.title}. ${c.diagnosis.explanation}`);
  if (c.note) lines.push(`  Note: ${c.note}`);
  if (c.shrunk) {
    const { from, to } = c.shrunk.severity ?? { from: Infinity, to: Infinity };
    const errors = Number.isFinite(from) ? ` (error ${timesAllowance(to)} the allowance; the original case: ${timesAllowance(from)})` : '';
    lines.push(`  A smaller input that fails the same way${errors}:`);
    lines.push('    inputs: ' + stringify(c.shrunk.inputs));
    lines.push('    expected: ' + stringify(c.shrunk.expected));
    if (c.shrunk.got) lines.push('    got: ' + stringify(c.shrunk.got));
  } else if (c.inputs && JSON.stringify(c.inputs).length < 600) {
    lines.push('  inputs: ' + stringify(c.inputs) + (c.params && Object.keys(c.params).length ? '  params: ' + stringify(c.params) : ''));
    if (c.expected && JSON.stringify(c.expected).length < 600) lines.push('  expected: ' + stringify(c.expected));
  }
  return lines.join('\n');
}

function testFeedback(t: TestResult): string {
  const failed = t.cases.filter((c) => !c.passed);
  if (!failed.length) return `All ${t.total} cases passed.`;
  const diag = [...new Set(failed.filter((c) => c.diagnosis).map((c) => c.diagnosis!.title))];
  const head = `${t.passed} of ${t.total} cases passed.` + (diag.length ? ` Looks like: ${diag.join('; ')}.` : '');
  return [head, ...failed.slice(0, 3).map((c) => caseFeedback(c)), ...(failed.length > 3 ? [`… and ${failed.length - 3} more failing cases`] : [])].join('\n\n');
}

/** How many tests are kept back, and until when. */
function notShownYet(closed: TestResult[]): string {
  const kinds = [...new Set(closed.map((t) => WHEN[t.visibility]))].join(', ');
  return `${closed.length} more test${closed.length > 1 ? 's are' : ' is'} not shown yet (${kinds})`;
}

/** The line that says what is kept back from a score over the tests shown. */
function keptBack(closed: TestResult[]): string | undefined {
  return closed.length ? `${notShownYet(closed)}: ${closed.length > 1 ? 'their' : 'its'} points are not in the score above` : undefined;
}

export function toText(r: GradeResult, o: RenderOptions = STUDENT_VIEW, colour = pc.isColorSupported): string {
  const c = colour ? pc : pc.createColors(false);
  const lines = [c.bold(`${r.assignment} — ${r.student}`), ''];
  if (!r.gradable) {
    for (const e of whyNotGradable(r)) lines.push(c.red(`✘ ${e}`));
    lines.push('', c.bold(`Score: 0 / ${r.maxScore}`) + c.dim(`   (${(r.executionTimeMs / 1000).toFixed(1)} s)`));
    return lines.join('\n') + '\n';
  }
  const v = view(r, o);
  const width = Math.max(...r.tests.map((t) => t.name.length));
  for (const t of v.open) {
    const mark = t.status === 'passed' ? c.green('✔') : t.passed === 0 ? c.red('✘') : c.yellow('◐');
    const first = t.cases.find((k) => !k.passed);
    const why = first ? c.dim(`  ${first.diagnosis ? 'looks like: ' + first.diagnosis.title : (first.message ?? '').split('\n')[0]}`) : '';
    lines.push(`${mark} ${t.name.padEnd(width)}  ${String(round(t.score)).padStart(5)} / ${t.maxScore}  (${t.passed}/${t.total} cases)${why}`);
  }
  for (const t of v.closed) lines.push(`${c.dim('•')} ${t.name.padEnd(width)}  ${c.dim(WHEN[t.visibility])}`);
  lines.push('', c.bold(`Score: ${round(v.score)} / ${v.max}`) + c.dim(`   (${(r.executionTimeMs / 1000).toFixed(1)} s)`));
  const back = keptBack(v.closed);
  if (back) lines.push(c.dim(back));
  for (const n of [...(r.notes ?? []), ...(r.isolation?.notes ?? [])]) lines.push(c.yellow(`note: ${n}`));
  for (const e of r.graderErrors) lines.push(c.red(`grader error (not counted): ${e}`));
  return lines.join('\n') + '\n';
}

/** The result model; for students, the tests kept back are reduced to their names, and the score to the tests shown. */
export function toJson(r: GradeResult, o: RenderOptions = STUDENT_VIEW): object {
  if (o.audience === 'instructor') return r;
  const v = view(r, o);
  return {
    ...r,
    score: v.score,
    maxScore: v.max,
    tests: r.tests.map((t) => (shown(t, o) ? t : { name: t.name, op: t.op, visibility: t.visibility, shown: false })),
  };
}

/**
 * Gradescope results.json (autograder specification). Gradescope enforces each test's
 * `visibility` itself, so every test goes in whole; the top-level `output`, which students
 * always see, counts only the visible tests.
 */
export function toGradescope(r: GradeResult, o: RenderOptions = STUDENT_VIEW): object {
  if (!r.gradable) {
    const why = whyNotGradable(r).join('\n');
    return {
      score: 0,
      execution_time: Math.round(r.executionTimeMs / 1000),
      output: why,
      stdout_visibility: 'hidden',
      tests: [{ name: 'The submission could not be graded', score: 0, max_score: 0, status: 'failed', output: why, visibility: 'visible' }, ...r.tests.map((t, i) => ({ name: t.name, number: String(i + 1), score: 0, max_score: t.maxScore, status: 'failed', output: 'not run', visibility: t.visibility, tags: [t.op] }))],
    };
  }
  const v = view(r, o);
  const back = keptBack(v.closed);
  return {
    score: round(r.score),
    execution_time: Math.round(r.executionTimeMs / 1000),
    output: `${r.assignment}: ${round(v.score)} / ${v.max}` + (back ? `\n${back}` : '') + (r.graderErrors.length ? `\nGrader errors (not counted against you): ${r.graderErrors.join('; ')}` : ''),
    stdout_visibility: 'hidden',
    tests: r.tests.map((t, i) => ({
      name: t.name,
      number: String(i + 1),
      score: round(t.score),
      max_score: t.maxScore,
      status: t.status,
      output: testFeedback(t),
      visibility: t.visibility,
      tags: [t.op],
    })),
  };
}

/**
 * PrairieLearn external-grader results.json: score in [0, 1] (the grade: it counts every test),
 * per-test points for the tests shown; PrairieLearn shows the whole file to the student, so the
 * tests kept back appear only as a count in `message`.
 */
export function toPrairieLearn(r: GradeResult, o: RenderOptions = STUDENT_VIEW): object {
  if (!r.gradable) return { gradable: false, score: 0, format_errors: whyNotGradable(r), message: whyNotGradable(r).join('\n'), output: r.log, tests: [] };
  const v = view(r, o);
  return {
    gradable: true,
    score: r.maxScore ? r.score / r.maxScore : 1,
    message: `${round(v.score)} / ${v.max} on the tests shown` + (v.closed.length ? `; ${notShownYet(v.closed)}, and count in the score` : ''),
    output: r.log,
    tests: v.open.map((t) => ({ name: t.name, description: t.op, points: round(t.score), max_points: t.maxScore, message: t.status === 'passed' ? 'passed' : testFeedback(t).split('\n')[0], output: testFeedback(t) })),
  };
}

/** How a case that did not pass ends in JUnit: not run, an error of the program (time-out, crash), or a failure. */
function junitOutcome(c: CaseResult): 'skipped' | 'error' | 'failure' {
  if (/^not run:/.test(c.message ?? '')) return 'skipped';
  if (c.rung === 'returns' && /( timed out| crashed| ran out of memory| flooded its output):/.test(c.message ?? '')) return 'error';
  return 'failure';
}

/**
 * xmlbuilder2 with the DOM under it takes longer to load than the rest of this module (~75 ms):
 * only JUnit output needs it, so it is required (a CommonJS package) the first time it is used,
 * not by every `grade` that prints text.
 */
let xml: typeof XmlBuilder | undefined;
const xmlbuilder = (): typeof XmlBuilder => (xml ??= createRequire(import.meta.url)('xmlbuilder2') as typeof XmlBuilder);

/**
 * JUnit XML (GitHub Classroom, CI), built with xmlbuilder2 and valid against the JUnit schema
 * (tests/schemas/junit.xsd): a testsuite per test shown, a testcase per case (`failure`, `error`
 * for time-outs and crashes, `skipped` for cases not run), the submission's log in a testsuite of
 * its own; characters XML cannot hold are dropped.
 */
export function toJUnit(r: GradeResult, o: RenderOptions = STUDENT_VIEW): string {
  const v = view(r, o);
  const doc = xmlbuilder().create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' });
  const suites: { name: string; time: number; cases: { name: string; classname: string; time: number; outcome?: { kind: 'skipped' | 'error' | 'failure'; message: string; type?: string; text?: string } }[] }[] = [];
  if (!r.gradable) {
    const why = whyNotGradable(r);
    suites.push({ name: 'submission', time: r.executionTimeMs / 1000, cases: [{ name: 'loads', classname: 'submission', time: 0, outcome: { kind: 'error', message: why[0], type: 'not-gradable', text: why.join('\n') } }] });
  } else {
    for (const t of v.open) {
      suites.push({
        name: t.name,
        time: t.cases.reduce((s, c) => s + c.ms, 0) / 1000,
        cases: t.cases.map((c) => ({
          name: c.id,
          classname: t.name,
          time: c.ms / 1000,
          ...(c.passed ? {} : { outcome: { kind: junitOutcome(c), message: (c.diagnosis ? 'looks like: ' + c.diagnosis.title : c.message ?? 'failed').split('\n')[0], type: c.rung ?? 'failed', text: caseFeedback(c) } }),
        })),
      });
    }
    if (v.closed.length) suites.push({ name: 'tests not shown yet', time: 0, cases: v.closed.map((t) => ({ name: t.name, classname: 'not shown yet', time: 0, outcome: { kind: 'skipped', message: WHEN[t.visibility] } })) });
  }
  const count = (kind: string) => suites.reduce((s, x) => s + x.cases.filter((c) => c.outcome?.kind === kind).length, 0);
  const all = suites.reduce((s, x) => s + x.cases.length, 0);
  const root = doc.ele('testsuites', { name: r.assignment, tests: all, failures: count('failure'), errors: count('error'), skipped: count('skipped'), time: (r.executionTimeMs / 1000).toFixed(3) });
  suites.forEach((s, i) => {
    const n = (kind: string) => s.cases.filter((c) => c.outcome?.kind === kind).length;
    const el = root.ele('testsuite', { name: s.name, tests: s.cases.length, failures: n('failure'), errors: n('error'), skipped: n('skipped'), time: s.time.toFixed(3) });
    for (const c of s.cases) {
      const tc = el.ele('testcase', { name: c.name, classname: c.classname, time: c.time.toFixed(3) });
      if (c.outcome) tc.ele(c.outcome.kind, { message: c.outcome.message, ...(c.outcome.type && c.outcome.kind !== 'skipped' ? { type: c.outcome.type } : {}) }).txt(c.outcome.text ?? '');
    }
    if (i === suites.length - 1 && r.log) el.ele('system-err').txt(r.log);
  });
  if (!suites.length && r.log) root.ele('testsuite', { name: 'submission', tests: 0, failures: 0, errors: 0, skipped: 0, time: '0.000' }).ele('system-err').txt(r.log);
  return doc.end({ prettyPrint: true }) + '\n';
}

/**
 * GitHub Classroom's runner result (classroom-resources/autograding-grading-reporter): the
 * reporter reads it base64-encoded from the step output `result` (`--github-output` writes it)
 * and sums `score` over the tests into the points Classroom records.
 */
export function toClassroom(r: GradeResult, o: RenderOptions = STUDENT_VIEW): object {
  const v = view(r, o);
  const tests = !r.gradable
    ? [{ name: 'The submission could not be graded', status: 'error', message: whyNotGradable(r).join('\n'), score: 0, duration: r.executionTimeMs }]
    : [
        ...v.open.map((t) => ({ name: t.name, status: t.status === 'passed' ? 'pass' : 'fail', message: testFeedback(t), score: round(t.score), duration: t.cases.reduce((s, c) => s + c.ms, 0) })),
        ...v.closed.map((t) => ({ name: t.name, status: t.status === 'passed' ? 'pass' : 'fail', message: WHEN[t.visibility], score: round(t.score), duration: 0 })),
      ];
  return { version: 1, status: !r.gradable ? 'error' : r.score >= r.maxScore ? 'pass' : 'fail', max_score: r.maxScore, tests };
}

// ---- HTML ----------------------------------------------------------------------------------

interface Plane {
  label: string;
  /** Row-major values of the plane (cropped), and its size. */
  values: number[];
  H: number;
  W: number;
  /** Index of the worst element within the plane's cells, or -1. */
  worst: number;
  /** The (cropped) plane's top-left corner within the full plane. */
  origin: [number, number];
}

const MAX_SIDE = 48;

/** The index of the element where got is furthest from expected (a non-finite mismatch counts most). */
function worstIndex(e: Float64Array, g: Float64Array): number {
  let best = -1;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const same = Object.is(e[i], g[i]) || (Number.isNaN(e[i]) && Number.isNaN(g[i])) || e[i] === g[i];
    const d = same ? 0 : Number.isFinite(e[i]) && Number.isFinite(g[i]) ? Math.abs(g[i] - e[i]) : Infinity;
    if (d > best) {
      best = d;
      at = i;
    }
  }
  return at;
}

/** The planes to draw of a tensor: all (n, c) planes when there are at most 4, else the one holding `worst`; each cropped around it. */
function planesOf(shape: number[], data: Float64Array, worst: number): Plane[] {
  const W = shape.length ? shape[shape.length - 1] : 1;
  const H = shape.length > 1 ? shape[shape.length - 2] : 1;
  const lead = shape.slice(0, -2);
  const count = lead.reduce((a, b) => a * b, 1);
  const worstPlane = worst >= 0 ? Math.floor(worst / (H * W)) : 0;
  const which = count <= 4 ? Array.from({ length: count }, (_, k) => k) : [worstPlane];
  return which.map((k) => {
    const idx: number[] = [];
    let rest = k;
    for (let d = lead.length - 1; d >= 0; d--) {
      idx.unshift(rest % lead[d]);
      rest = Math.floor(rest / lead[d]);
    }
    const local = worst >= 0 && Math.floor(worst / (H * W)) === k ? worst % (H * W) : -1;
    // crop to MAX_SIDE × MAX_SIDE around the worst element
    const wr = local >= 0 ? Math.floor(local / W) : 0;
    const wc = local >= 0 ? local % W : 0;
    const r0 = Math.max(0, Math.min(wr - MAX_SIDE / 2, H - MAX_SIDE));
    const c0 = Math.max(0, Math.min(wc - MAX_SIDE / 2, W - MAX_SIDE));
    const h = Math.min(H, MAX_SIDE);
    const w = Math.min(W, MAX_SIDE);
    const values: number[] = [];
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) values.push(data[k * H * W + (r0 + i) * W + (c0 + j)]);
    const names = lead.length === 2 ? ['n', 'c'] : lead.map((_, d) => `d${d}`);
    const where = lead.length ? `plane (${idx.map((v, d) => `${names[d]}=${v}`).join(', ')}) of ${count}` : 'the whole tensor';
    const crop = h < H || w < W ? `, rows ${r0}–${r0 + h - 1}, columns ${c0}–${c0 + w - 1} of ${H}×${W}` : '';
    return { label: where + crop, values, H: h, W: w, worst: local >= 0 ? (wr - r0) * w + (wc - c0) : -1, origin: [r0, c0] };
  });
}

function colour(v: number, m: number): string {
  if (Number.isNaN(v)) return '#ff00ff';
  if (!Number.isFinite(v)) return v > 0 ? '#800000' : '#000080';
  const s = Math.max(-1, Math.min(1, v / m));
  const k = Math.round(255 * (1 - Math.abs(s)));
  return s >= 0 ? `rgb(255,${k},${k})` : `rgb(${k},${k},255)`;
}

/** An SVG heatmap of one plane (diverging colours around 0, values on hover, the worst element outlined). */
function heatmap(p: Plane, scale: number, label: string): string {
  const cell = Math.max(6, Math.min(28, Math.floor(280 / Math.max(p.W, p.H))));
  const rects = p.values.map((v, i) => {
    const x = (i % p.W) * cell;
    const y = Math.floor(i / p.W) * cell;
    return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${colour(v, scale)}"><title>(${p.origin[0] + Math.floor(i / p.W)}, ${p.origin[1] + (i % p.W)}) = ${v}</title></rect>`;
  });
  if (p.worst >= 0) rects.push(`<rect class="worst" x="${(p.worst % p.W) * cell + 1}" y="${Math.floor(p.worst / p.W) * cell + 1}" width="${cell - 2}" height="${cell - 2}" fill="none" stroke="#000" stroke-width="2"><title>the worst element</title></rect>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" aria-label="${label}" width="${p.W * cell}" height="${p.H * cell}" viewBox="0 0 ${p.W * cell} ${p.H * cell}">${rects.join('')}</svg>`;
}

function legend(scale: number): string {
  const fmt = (x: number) => Number(x.toPrecision(3)).toString();
  return `<div class="legend"><span>${fmt(-scale)}</span><svg width="120" height="12"><defs><linearGradient id="g"><stop offset="0" stop-color="rgb(0,0,255)"/><stop offset=".5" stop-color="#fff"/><stop offset="1" stop-color="rgb(255,0,0)"/></linearGradient></defs><rect width="120" height="12" fill="url(#g)" stroke="#999"/></svg><span>${fmt(scale)}</span> <i style="background:#ff00ff"></i>NaN <i style="background:#800000"></i>+∞ <i style="background:#000080"></i>−∞ <i class="outline"></i>worst element</div>`;
}

function absMax(values: number[]): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m || 1;
}

/** Figures for every failing output of a case: expected, got and their difference, plane by plane. */
function caseFigures(c: CaseResult): { output: string; note?: string; planes: { label: string; maps: { label: string; svg: string }[]; legend: string }[] }[] {
  if (!c.expected || !c.got) return [];
  const out: ReturnType<typeof caseFigures> = [];
  for (const name of Object.keys(c.expected)) {
    const et = c.expected[name] as TensorJSON | undefined;
    const gt = c.got[name] as TensorJSON | undefined;
    if (!et || !gt) continue;
    const e = decodeTensor(et).array;
    const g = decodeTensor(gt).array;
    const sameShape = e.shape.length === g.shape.length && e.shape.every((d, i) => d === g.shape[i]);
    if (!sameShape) {
      out.push({ output: name, note: `${name}: got shape [${g.shape.join(', ')}], expected [${e.shape.join(', ')}]`, planes: [] });
      continue;
    }
    const w = worstIndex(e.data, g.data);
    if (w < 0 || (Object.is(e.data[w], g.data[w]) || e.data[w] === g.data[w] || (Number.isNaN(e.data[w]) && Number.isNaN(g.data[w])))) continue; // this output is right
    const diff = new Float64Array(e.data.length);
    for (let i = 0; i < diff.length; i++) diff[i] = g.data[i] - e.data[i];
    const pe = planesOf(e.shape, e.data, w);
    const pg = planesOf(g.shape, g.data, w);
    const pd = planesOf(e.shape, diff, w);
    out.push({
      output: name,
      planes: pe.map((p, k) => {
        const scale = Math.max(absMax(p.values), absMax(pg[k].values));
        const dscale = absMax(pd[k].values);
        return {
          label: p.label,
          maps: [
            { label: `expected ${name}`, svg: heatmap(p, scale, `expected ${name}, ${p.label}`) },
            { label: `got ${name}`, svg: heatmap(pg[k], scale, `got ${name}, ${p.label}`) },
            { label: 'got − expected', svg: heatmap(pd[k], dscale, `got − expected, ${p.label}`) },
          ],
          legend: legend(scale) + (dscale !== scale ? `<div class="legend-note">difference: the same colours, scaled to ±${Number(dscale.toPrecision(3))}</div>` : ''),
        };
      }),
    });
  }
  return out;
}

const TEMPLATE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{assignment}} — {{student}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:75em;color:#222;padding:0 1em}
h1{font-size:1.4em} .score{font-size:1.2em;font-weight:600}
table.tests{border-collapse:collapse;margin:1em 0} table.tests td,table.tests th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
.passed{color:#176c2b} .failed{color:#a11} .kept{color:#777}
section.case{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f6f6;padding:.5em;border-radius:4px}
.maps{display:flex;gap:1.5em;flex-wrap:wrap} figure{margin:0} figcaption{font-size:.85em;color:#555}
.diagnosis{background:#fff4d6;padding:.4em .6em;border-radius:4px}
.legend{display:flex;align-items:center;gap:.4em;font-size:.8em;color:#555;margin:.3em 0}
.legend i{display:inline-block;width:.9em;height:.9em;vertical-align:middle} .legend i.outline{border:2px solid #000;background:#fff}
.not-gradable{background:#fde2e2;padding:.6em 1em;border-radius:6px}
</style></head><body>
<h1>{{assignment}}</h1>
<p>Student <b>{{student}}</b> · <span class="score" id="score">{{score}} / {{maxScore}}</span> · {{seconds}} s</p>
{{#problems}}<p class="not-gradable">{{.}}</p>
{{/problems}}
<table class="tests"><tr><th>test</th><th>score</th><th>cases</th></tr>
{{#tests}}<tr class="{{status}}"><td>{{name}}</td><td>{{score}} / {{maxScore}}</td><td>{{passed}}/{{total}}</td></tr>
{{/tests}}{{#kept}}<tr class="kept"><td>{{name}}</td><td colspan="2">{{when}}</td></tr>
{{/kept}}</table>
{{#keptNote}}<p class="kept">{{keptNote}}</p>{{/keptNote}}
{{#failures}}<section class="case" data-test="{{test}}" data-case="{{id}}">
<h2>{{test}} · {{id}}</h2>
<pre>{{message}}</pre>
{{#diagnosis}}<p class="diagnosis"><b>Looks like: {{title}}.</b> {{explanation}}</p>{{/diagnosis}}
{{#figures}}<div class="output" data-output="{{output}}">{{#note}}<p>{{note}}</p>{{/note}}
{{#planes}}<h3>{{output}}: {{label}}</h3>{{{legend}}}<div class="maps">{{#maps}}<figure><figcaption>{{label}}</figcaption>{{{svg}}}</figure>{{/maps}}</div>
{{/planes}}</div>{{/figures}}
</section>
{{/failures}}
{{#notes}}<p class="note">note: {{.}}</p>{{/notes}}
</body></html>`;

export function toHtml(r: GradeResult, o: RenderOptions = STUDENT_VIEW): string {
  const v = view(r, o);
  const failures = v.open.flatMap((t) =>
    t.cases
      .filter((c) => !c.passed)
      .slice(0, 5)
      .map((c) => ({ test: t.name, id: c.id, message: caseFeedback(c, false), diagnosis: c.diagnosis, figures: caseFigures(c) })),
  );
  return Mustache.render(TEMPLATE, {
    assignment: r.assignment,
    student: r.student,
    score: r.gradable ? round(v.score) : 0,
    maxScore: r.gradable ? v.max : r.maxScore,
    seconds: (r.executionTimeMs / 1000).toFixed(1),
    problems: whyNotGradable(r),
    tests: r.gradable ? v.open.map((t) => ({ ...t, score: round(t.score) })) : [],
    kept: r.gradable ? v.closed.map((t) => ({ name: t.name, when: WHEN[t.visibility] })) : [],
    keptNote: r.gradable ? keptBack(v.closed) : undefined,
    failures,
    notes: [...(r.notes ?? []), ...(r.isolation?.notes ?? [])],
  });
}

export function render(r: GradeResult, format: Format, o: RenderOptions = STUDENT_VIEW): string {
  switch (format) {
    case 'text':
      return toText(r, o);
    case 'json':
      return JSON.stringify(toJson(r, o), null, 2) + '\n';
    case 'gradescope':
      return JSON.stringify(toGradescope(r, o), null, 2) + '\n';
    case 'prairielearn':
      return JSON.stringify(toPrairieLearn(r, o), null, 2) + '\n';
    case 'junit':
      return toJUnit(r, o);
    case 'classroom':
      return JSON.stringify(toClassroom(r, o), null, 2) + '\n';
    case 'html':
      return toHtml(r, o);
  }
}
