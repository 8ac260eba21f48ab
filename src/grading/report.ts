/**
 * Writing a GradeResult: a terminal report, JSON, Gradescope and PrairieLearn results.json,
 * JUnit XML, and a self-contained HTML report with heatmaps of expected / got / difference.
 */
import pc from 'picocolors';
import Mustache from 'mustache';
import { decodeTensor, stringify, type TensorJSON } from '../tensor.js';
import type { CaseResult, GradeResult, TestResult } from './grade.js';

export const FORMATS = ['text', 'json', 'gradescope', 'prairielearn', 'junit', 'html'] as const;
export type Format = (typeof FORMATS)[number];

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A failing case in words: its rung message, diagnosis, and shrunk reproducer. */
export function caseFeedback(c: CaseResult, withDiagnosis = true): string {
  const lines = [`case ${c.id}: ${c.message ?? 'failed'}`];
  if (c.diagnosis && withDiagnosis) lines.push(`  Looks like: ${c.diagnosis.title}. ${c.diagnosis.explanation}`);
  if (c.note) lines.push(`  Note: ${c.note}`);
  if (c.shrunk) {
    lines.push('  A smaller input that fails the same way:');
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

export function toText(r: GradeResult, colour = pc.isColorSupported): string {
  const c = colour ? pc : pc.createColors(false);
  const lines = [c.bold(`${r.assignment} — ${r.student}`), ''];
  if (!r.gradable) {
    for (const e of r.formatErrors) lines.push(c.red(`✘ The submission could not be graded: ${e}`));
    for (const e of r.graderErrors) lines.push(c.red(`✘ The grader could not run the submission: ${e}`));
    lines.push('', c.bold(`Score: 0 / ${r.maxScore}`) + c.dim(`   (${(r.executionTimeMs / 1000).toFixed(1)} s)`));
    return lines.join('\n') + '\n';
  }
  const width = Math.max(...r.tests.map((t) => t.name.length));
  for (const t of r.tests) {
    const mark = t.status === 'passed' ? c.green('✔') : t.passed === 0 ? c.red('✘') : c.yellow('◐');
    const first = t.cases.find((k) => !k.passed);
    const why = first ? c.dim(`  ${first.diagnosis ? 'looks like: ' + first.diagnosis.title : (first.message ?? '').split('\n')[0]}`) : '';
    lines.push(`${mark} ${t.name.padEnd(width)}  ${String(round(t.score)).padStart(5)} / ${t.maxScore}  (${t.passed}/${t.total} cases)${why}`);
  }
  lines.push('', c.bold(`Score: ${round(r.score)} / ${r.maxScore}`) + c.dim(`   (${(r.executionTimeMs / 1000).toFixed(1)} s)`));
  for (const n of r.isolation?.notes ?? []) lines.push(c.yellow(`note: ${n}`));
  for (const e of r.graderErrors) lines.push(c.red(`grader error (not counted): ${e}`));
  return lines.join('\n') + '\n';
}

/** Why a result has no score: the student's problems first, then the grader's. */
export function whyNotGradable(r: GradeResult): string[] {
  return [...r.formatErrors.map((e) => `The submission could not be graded: ${e}`), ...r.graderErrors.map((e) => `The grader could not run the submission: ${e}`)];
}

/** Gradescope results.json (autograder specification). */
export function toGradescope(r: GradeResult): object {
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
  return {
    score: round(r.score),
    execution_time: Math.round(r.executionTimeMs / 1000),
    output: `${r.assignment}: ${round(r.score)} / ${r.maxScore}` + (r.graderErrors.length ? `\nGrader errors (not counted against you): ${r.graderErrors.join('; ')}` : ''),
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

/** PrairieLearn external-grader results.json: score in [0, 1], per-test points. */
export function toPrairieLearn(r: GradeResult): object {
  if (!r.gradable) return { gradable: false, score: 0, format_errors: whyNotGradable(r), message: whyNotGradable(r).join('\n'), output: r.log, tests: [] };
  return {
    gradable: r.graderErrors.length === 0 || r.tests.some((t) => t.total > 0),
    score: r.maxScore ? r.score / r.maxScore : 1,
    message: `${round(r.score)} / ${r.maxScore}`,
    output: r.log,
    tests: r.tests.map((t) => ({ name: t.name, description: t.op, points: round(t.score), max_points: t.maxScore, message: t.status === 'passed' ? 'passed' : testFeedback(t).split('\n')[0], output: testFeedback(t) })),
  };
}

const xml = (s: string) => s.replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

/** JUnit XML: a testsuite per test, a testcase per case. */
export function toJUnit(r: GradeResult): string {
  const failures = r.tests.reduce((s, t) => s + t.total - t.passed, 0);
  const total = r.tests.reduce((s, t) => s + t.total, 0);
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites name="${xml(r.assignment)}" tests="${total}" failures="${failures}" time="${(r.executionTimeMs / 1000).toFixed(3)}">`];
  if (!r.gradable) out.push(`  <testsuite name="submission" tests="1" errors="1"><testcase classname="submission" name="loads"><error message="${xml(whyNotGradable(r)[0])}">${xml(whyNotGradable(r).join('\n'))}</error></testcase></testsuite>`);
  for (const t of r.tests) {
    const time = t.cases.reduce((s, c) => s + c.ms, 0) / 1000;
    out.push(`  <testsuite name="${xml(t.name)}" tests="${t.total}" failures="${t.total - t.passed}" time="${time.toFixed(3)}">`);
    for (const c of t.cases) {
      const head = `    <testcase classname="${xml(t.name)}" name="${xml(c.id)}" time="${(c.ms / 1000).toFixed(3)}"`;
      if (c.passed) out.push(head + '/>');
      else out.push(head + '>', `      <failure message="${xml((c.diagnosis ? 'looks like: ' + c.diagnosis.title : c.message ?? 'failed').split('\n')[0])}" type="${xml(c.rung ?? 'failed')}">${xml(caseFeedback(c))}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  if (r.log) out.push(`  <system-err>${xml(r.log)}</system-err>`);
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** An SVG heatmap of the last two dims of the first plane of a tensor (diverging colours around 0). */
function heatmap(t: TensorJSON | undefined, label: string, scale?: number): { label: string; svg: string } | undefined {
  if (!t) return undefined;
  const a = decodeTensor(t).array;
  const shape = a.shape;
  const W = shape.length ? shape[shape.length - 1] : 1;
  const H = shape.length > 1 ? shape[shape.length - 2] : 1;
  const vals = Array.from(a.data.slice(0, W * H));
  const m = scale ?? Math.max(1e-300, ...vals.filter(Number.isFinite).map(Math.abs));
  const cell = Math.max(6, Math.min(28, Math.floor(240 / Math.max(W, H))));
  const rects = vals.map((v, i) => {
    const x = (i % W) * cell;
    const y = Math.floor(i / W) * cell;
    let fill = '#888';
    if (Number.isNaN(v)) fill = '#ff00ff';
    else if (Number.isFinite(v)) {
      const s = Math.max(-1, Math.min(1, v / m));
      const k = Math.round(255 * (1 - Math.abs(s)));
      fill = s >= 0 ? `rgb(255,${k},${k})` : `rgb(${k},${k},255)`;
    } else fill = v > 0 ? '#800000' : '#000080';
    return `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}"><title>(${Math.floor(i / W)}, ${i % W}) = ${v}</title></rect>`;
  });
  return { label, svg: `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="${W * cell}" height="${H * cell}" viewBox="0 0 ${W * cell} ${H * cell}">${rects.join('')}</svg>` };
}

function magnitude(t: TensorJSON | undefined): number {
  if (!t) return 0;
  let m = 0;
  for (const v of decodeTensor(t).array.data) if (Number.isFinite(v)) m = Math.max(m, Math.abs(v));
  return m;
}

function diffTensor(e: TensorJSON, g: TensorJSON): TensorJSON | undefined {
  if (JSON.stringify(e.shape) !== JSON.stringify(g.shape)) return undefined;
  const a = decodeTensor(e).array.data;
  const b = decodeTensor(g).array.data;
  return { shape: e.shape, data: Array.from(b, (v, i) => v - a[i]).map((v) => (Number.isNaN(v) ? 'NaN' : v)) };
}

const TEMPLATE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{assignment}} — {{student}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:70em;color:#222}
h1{font-size:1.4em} .score{font-size:1.2em;font-weight:600}
table.tests{border-collapse:collapse;margin:1em 0} table.tests td,table.tests th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}
.passed{color:#176c2b} .failed{color:#a11}
section.case{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em;border-radius:4px}
.maps{display:flex;gap:1.5em;flex-wrap:wrap} figure{margin:0} figcaption{font-size:.85em;color:#555}
.diagnosis{background:#fff4d6;padding:.4em .6em;border-radius:4px}
</style></head><body>
<h1>{{assignment}}</h1>
<p>Student <b>{{student}}</b> · <span class="score" id="score">{{score}} / {{maxScore}}</span> · {{seconds}} s</p>
<table class="tests"><tr><th>test</th><th>score</th><th>cases</th></tr>
{{#tests}}<tr class="{{status}}"><td>{{name}}</td><td>{{score}} / {{maxScore}}</td><td>{{passed}}/{{total}}</td></tr>
{{/tests}}</table>
{{#failures}}<section class="case" data-test="{{test}}" data-case="{{id}}">
<h2>{{test}} · {{id}}</h2>
<pre>{{message}}</pre>
{{#diagnosis}}<p class="diagnosis"><b>Looks like: {{title}}.</b> {{explanation}}</p>{{/diagnosis}}
<div class="maps">{{#maps}}<figure><figcaption>{{label}}</figcaption>{{{svg}}}</figure>{{/maps}}</div>
</section>
{{/failures}}
{{#notes}}<p class="note">note: {{.}}</p>{{/notes}}
</body></html>`;

export function toHtml(r: GradeResult): string {
  const failures = r.tests.flatMap((t) =>
    t.cases
      .filter((c) => !c.passed)
      .slice(0, 5)
      .map((c) => {
        const name = c.expected ? Object.keys(c.expected)[0] : c.got ? Object.keys(c.got)[0] : undefined;
        const e = name ? c.expected?.[name] : undefined;
        const g = name ? c.got?.[name] : undefined;
        const d = e && g ? diffTensor(e, g) : undefined;
        // expected and got share one colour scale, so equal colours mean equal values
        const scale = Math.max(magnitude(e), magnitude(g)) || undefined;
        const maps = [heatmap(e, `expected ${name}`, scale), heatmap(g, `got ${name}`, scale), d ? heatmap(d, 'got − expected') : undefined].filter(Boolean);
        return { test: t.name, id: c.id, message: caseFeedback(c, false), diagnosis: c.diagnosis, maps };
      }),
  );
  return Mustache.render(TEMPLATE, {
    assignment: r.assignment,
    student: r.student,
    score: round(r.score),
    maxScore: r.maxScore,
    seconds: (r.executionTimeMs / 1000).toFixed(1),
    tests: r.tests.map((t) => ({ ...t, score: round(t.score) })),
    failures,
    notes: [...whyNotGradable(r), ...(r.isolation?.notes ?? [])],
  });
}

export function render(r: GradeResult, format: Format): string {
  switch (format) {
    case 'text':
      return toText(r);
    case 'json':
      return JSON.stringify(r, null, 2) + '\n';
    case 'gradescope':
      return JSON.stringify(toGradescope(r), null, 2) + '\n';
    case 'prairielearn':
      return JSON.stringify(toPrairieLearn(r), null, 2) + '\n';
    case 'junit':
      return toJUnit(r);
    case 'html':
      return toHtml(r);
  }
}
