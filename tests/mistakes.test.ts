/**
 * The mistake catalogue recognises a mistake by its numerical signature, not by one way of writing
 * it: independently written submissions (tests/mistakes/), each right but for one catalogue
 * mistake, are graded in the sandbox, and every case they fail must be diagnosed as their mistake.
 */
import { describe, expect, it, vi } from 'vitest';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseAssignment } from '../src/grading/assignment.js';
import { grade } from '../src/grading/grade.js';
import { jsSubmission, type SubmissionSpec } from '../src/grading/process.js';
import { capabilities } from '../src/sandbox/capabilities.js';

vi.setConfig({ testTimeout: 120000 });
const DIR = join(__dirname, 'mistakes');
const ROOT = join(__dirname, '..');
const sandboxed = capabilities().best !== 'none';
if (!sandboxed) console.warn('\n*** MISTAKE-SIGNATURE TESTS SKIPPED: no sandbox here (bubblewrap, or root) ***\n');

const assignment = (op: string, fixtures: string) =>
  parseAssignment({ name: `mistakes ${op}`, id: 'mistakes', timeLimitMs: 5000, tests: [{ op, cases: [`cnn-oracle:fixtures/${fixtures}`], random: 12, mistakes: true }] }, ROOT);

const python = (file: string): SubmissionSpec => {
  const d = mkdtempSync(join(tmpdir(), 'mistake-'));
  copyFileSync(join(DIR, file), join(d, 'student.py'));
  return { kind: 'command', command: 'python3 student.py', cwd: d };
};

describe.runIf(sandboxed)('independently written mistakes are diagnosed on every case they fail', () => {
  it.each([
    ['one_sided_pad.py (pads only the top and the left: smaller outputs)', python('one_sided_pad.py'), 'conv2d', 'convolution/conv2d.jsonl', 'conv2d/one-sided-padding'],
    ['shifted-pad.mjs (all the padding before the image: shifted outputs)', jsSubmission(join(DIR, 'shifted-pad.mjs')), 'conv2d', 'convolution/conv2d.jsonl', 'conv2d/one-sided-padding'],
    ['unbiased_bn.py (NumPy ddof=1 everywhere, batchVar included)', python('unbiased_bn.py'), 'batchNorm', 'normalization/batchNorm.jsonl', 'batchNorm/unbiased-variance'],
    ['eps-outside.ts (√σ² + ε, in training and inference)', jsSubmission(join(DIR, 'eps-outside.ts')), 'batchNorm', 'normalization/batchNorm.jsonl', 'batchNorm/eps-outside-sqrt'],
  ])('%s', async (_name, spec, op, fixtures, mistake) => {
    for (const student of ['ada', 'bob']) {
      const r = await grade(spec, assignment(op, fixtures), { student });
      const failed = r.tests[0].cases.filter((c) => !c.passed);
      expect(failed.length, `${student}: some cases fail`).toBeGreaterThan(3);
      for (const c of failed) {
        // with "same" padding and an odd total, all of it at the start is also "the extra at the start"
        const also = mistake === 'conv2d/one-sided-padding' && c.params?.padding === 'same' ? ['conv2d/same-extra-at-start'] : [];
        expect([mistake, ...also], `${student} ${c.id}: ${c.message}`).toContain(c.diagnosis?.id);
      }
    }
  });
});

