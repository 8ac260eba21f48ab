/**
 * `cnn-oracle export gradescope|prairielearn|classroom ASSIGNMENT`: everything a platform needs
 * to grade one submission per container with cnn-oracle. The engine that scales grading is the
 * platform's; cnn-oracle is installed from a packed tarball that travels with the export, so the
 * container never needs this repository.
 * - gradescope: a zip for "Upload autograder": setup.sh (Node 20, bubblewrap, NumPy, cnn-oracle
 *   from the tarball), run_autograder (grades /autograder/submission into
 *   /autograder/results/results.json, the student from submission_metadata.json), the assignment
 *   and its case files, the tarball.
 * - prairielearn: a folder: the image recipe (Dockerfile), serverFilesCourse/cnn-oracle/run.sh
 *   (the entrypoint), the question's tests/ (assignment and cases) and the info.json snippet.
 * - classroom: a folder to add to the template repository: .github/workflows/classroom.yml (grade,
 *   then GitHub Classroom's reporter) and .cnn-oracle/ (assignment, cases, tarball).
 * Every script honours CNN_ORACLE_PLATFORM_ROOT (default /), so the tests lay the platform out in
 * a temporary folder and run the scripts there.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { zipSync, type Zippable } from 'fflate';
import YAML from 'yaml';
import { PACKAGE_ROOT, caseFiles, loadAssignment } from './assignment.js';
import { VERSION } from '../version.js';
import { UsageError } from './command.js';
import type { Platform } from './names.js';

export { PLATFORMS, type Platform } from './names.js';

export interface ExportOptions {
  /** The assignment file. */
  assignment: string;
  /** The zip (gradescope) or folder (prairielearn, classroom) to write. */
  out: string;
  /** How the submission runs, as in `grade` (any language). */
  command?: string;
  /** The instructor's adapter module. */
  adapter?: string;
  /** A cnn-oracle tarball to ship instead of packing this installation (the tests pack once). */
  tarball?: string;
}

/** A file of the export: its contents and whether it is a script. */
type Files = Map<string, { data: Buffer; exec?: boolean }>;

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The assignment and its case files, under `prefix`: each test's `cases` become the list of the
 * copied files (globs expanded, paths outside the assignment's folder brought in), the bundled
 * `cnn-oracle:` fixtures stay as they are (they come with the package).
 */
export function bundleAssignment(file: string, prefix: string): Files {
  const a = loadAssignment(file);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { tests?: { cases?: string[] }[]; [k: string]: unknown };
  const files: Files = new Map();
  (raw.tests ?? []).forEach((t, i) => {
    if (!t.cases) return;
    const spec = a.tests[i];
    const cases: string[] = [];
    for (const pattern of t.cases) {
      if (pattern.startsWith('cnn-oracle:')) {
        cases.push(pattern);
        continue;
      }
      for (const f of caseFiles(a, { ...spec, cases: [pattern] })) {
        const name = `cases/${i + 1}-${spec.op}-${cases.length + 1}-${basename(f)}`;
        files.set(join(prefix, name), { data: readFileSync(f) });
        cases.push(name);
      }
    }
    t.cases = cases;
  });
  delete raw.$schema;
  files.set(join(prefix, 'assignment.json'), { data: Buffer.from(JSON.stringify(raw, null, 2) + '\n') });
  return files;
}

/** Packs this installation of cnn-oracle (dist, fixtures, exercises, clients) with npm. */
export function packTarball(): string {
  if (!existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'cli.js'))) throw new UsageError(`${PACKAGE_ROOT}: cnn-oracle is not built (npm run build)`);
  const dir = mkdtempSync(join(tmpdir(), 'cnn-oracle-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir, PACKAGE_ROOT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const name = out.trim().split('\n').pop()!;
  return join(dir, name);
}

/** The `grade` arguments every platform's script passes after the submission. */
function gradeArgs(o: ExportOptions, assignment: string, format: string, out: string, adapter?: string): string {
  return [`--assignment ${assignment}`, `--format ${format}`, `--out ${out}`, ...(o.command ? [`--command ${sh(o.command)}`] : []), ...(adapter ? [`--adapter ${adapter}`] : [])].join(' ');
}

const HEADER = (what: string) => `#!/usr/bin/env bash
# ${what}
# Written by \`cnn-oracle export\` (cnn-oracle ${VERSION}). CNN_ORACLE_PLATFORM_ROOT (default /) moves
# the platform's folders, for trying the export out.
`;

/** The assignment, its cases and the adapter under `dir`, and the tarball at `tgz`: what every export starts with. */
function baseFiles(o: ExportOptions, tarball: string, dir: string, tgz: string): Files {
  const files = bundleAssignment(o.assignment, dir);
  if (o.adapter) files.set(join(dir, 'adapter.mjs'), { data: readFileSync(o.adapter) });
  files.set(tgz, { data: readFileSync(tarball) });
  return files;
}

/**
 * The script a platform runs for every submission: it makes what the sandbox user must not read
 * (hidden cases, the course's files, cnn-oracle itself) unreadable to other users and the results
 * folder unwritable to them (the platforms' own advice, which cnn-oracle then checks), and grades.
 */
function gradeScript(o: ExportOptions, s: { what: string; root: string; protect: string[]; results: string; bin: string; submission: string; assignmentDir: string; format: string }): { data: Buffer; exec: true } {
  const R = `"\${CNN_ORACLE_PLATFORM_ROOT:-}${s.root}"`;
  const q = (p: string) => `"$R/${p}"`;
  return {
    exec: true,
    data: Buffer.from(`${HEADER(s.what)}set -uo pipefail
R=${R}
mkdir -p ${q(s.results)}
chmod -R o-rwx ${s.protect.map(q).join(' ')}
chmod o-w ${q(s.results)}
exec ${s.bin} grade ${q(s.submission)} ${gradeArgs(o, q(`${s.assignmentDir}/assignment.json`), s.format, q(`${s.results}/results.json`), o.adapter ? q(`${s.assignmentDir}/adapter.mjs`) : undefined)}
`),
  };
}

function gradescopeFiles(o: ExportOptions, tarball: string): Files {
  const files = baseFiles(o, tarball, 'assignment', 'cnn-oracle.tgz');
  files.set('setup.sh', {
    exec: true,
    data: Buffer.from(`${HEADER('Gradescope runs this once, as root, when it builds the autograder image.')}set -euo pipefail
SRC="$(cd "$(dirname "$0")" && pwd)"
A="\${CNN_ORACLE_PLATFORM_ROOT:-}/autograder"
if [ -z "\${CNN_ORACLE_SKIP_SYSTEM_PACKAGES:-}" ]; then
  # bubblewrap for the sandbox, Python and NumPy for Python submissions, Node 20 for cnn-oracle
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates curl bubblewrap python3 python3-numpy
  if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
    curl -fsSL https://deb.nodesource.com/setup_20.x | bash -
    DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
  fi
fi
# --ignore-scripts: nothing of cnn-oracle needs an install script (gpu.js's optional native \`gl\`
# build is skipped: its kernels run on WebAssembly, as without a display they would anyway)
npm install --prefix "$A/cnn-oracle" --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund "$SRC/cnn-oracle.tgz"
`),
  });
  files.set('run_autograder', gradeScript(o, { what: 'Gradescope runs this for every submission, as root, in a fresh container.', root: '/autograder', protect: ['source', 'cnn-oracle'], results: 'results', bin: '"$R/cnn-oracle/node_modules/.bin/cnn-oracle"', submission: 'submission', assignmentDir: 'source/assignment', format: 'gradescope' }));
  return files;
}

function prairielearnFiles(o: ExportOptions, tarball: string): Files {
  const files = baseFiles(o, tarball, 'tests', 'image/cnn-oracle.tgz');
  files.set('image/Dockerfile', {
    data: Buffer.from(`# The external grader's image: Node 20, bubblewrap, Python with NumPy, and cnn-oracle ${VERSION}.
# docker build -t YOUR/cnn-oracle-grader image/   (then push it, and name it in info.json)
FROM node:20-bookworm-slim
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap python3 python3-numpy \\
 && rm -rf /var/lib/apt/lists/*
COPY cnn-oracle.tgz /tmp/cnn-oracle.tgz
RUN npm install -g --omit=dev --ignore-scripts --no-audit --no-fund /tmp/cnn-oracle.tgz && rm /tmp/cnn-oracle.tgz \\
 && chmod -R o-rwx "$(npm root -g)/cnn-oracle"
`),
  });
  files.set('serverFilesCourse/cnn-oracle/run.sh', gradeScript(o, { what: 'PrairieLearn runs this (the entrypoint) for every submission, in a fresh container.', root: '/grade', protect: ['tests', 'serverFilesCourse', 'data'], results: 'results', bin: 'cnn-oracle', submission: 'student', assignmentDir: 'tests', format: 'prairielearn' }));
  files.set('info.json', {
    data: Buffer.from(
      JSON.stringify({ externalGradingOptions: { enabled: true, image: 'YOUR/cnn-oracle-grader', serverFilesCourse: ['cnn-oracle/'], entrypoint: '/grade/serverFilesCourse/cnn-oracle/run.sh', timeout: 120 } }, null, 2) + '\n',
    ),
  });
  files.set('README.md', {
    data: Buffer.from(`# cnn-oracle for PrairieLearn

- \`image/\`: build and push the grader image (\`docker build -t YOUR/cnn-oracle-grader image/\`).
- \`serverFilesCourse/cnn-oracle/\`: copy into your course's \`serverFilesCourse/\`.
- \`tests/\`: the question's \`tests/\` folder (the assignment and its cases).
- \`info.json\`: merge \`externalGradingOptions\` into the question's \`info.json\`, with your image's name.

The student's files land in \`/grade/student\`; a JS/TS submission is that folder (an \`index.*\`
or \`package.json\` main), any other language runs with the assignment's \`--command\`. The result
is \`/grade/results/results.json\`: \`gradable: false\` with \`format_errors\` when the submission
cannot be loaded (no attempt is used up).
`),
  });
  return files;
}

function classroomFiles(o: ExportOptions, tarball: string): Files {
  const files = baseFiles(o, tarball, '.cnn-oracle', '.cnn-oracle/cnn-oracle.tgz');
  const grade = `"$RUNNER_TEMP/cnn-oracle/node_modules/.bin/cnn-oracle" grade . ${gradeArgs(o, '.cnn-oracle/assignment.json', 'classroom', '"$RUNNER_TEMP/cnn-oracle-result.json"', o.adapter ? '.cnn-oracle/adapter.mjs' : undefined)} --github-output --unsafe-no-sandbox`;
  const workflow = {
    name: 'Autograding Tests',
    on: ['push', 'repository_dispatch', 'workflow_dispatch'],
    permissions: { checks: 'write', actions: 'read', contents: 'read' },
    jobs: {
      'run-autograding-tests': {
        'runs-on': 'ubuntu-latest',
        if: "github.actor != 'github-classroom[bot]'",
        steps: [
          { name: 'Checkout code', uses: 'actions/checkout@v4' },
          { uses: 'actions/setup-node@v4', with: { 'node-version': 20 } },
          { name: 'Install bubblewrap and NumPy', run: 'sudo apt-get update && sudo apt-get install -y --no-install-recommends bubblewrap python3-numpy' },
          { name: 'Install cnn-oracle', run: 'npm install --prefix "$RUNNER_TEMP/cnn-oracle" --omit=dev --ignore-scripts --no-audit --no-fund ./.cnn-oracle/cnn-oracle.tgz' },
          { name: 'cnn-oracle', id: 'cnn-oracle', run: grade },
          { name: 'Autograding Reporter', uses: 'classroom-resources/autograding-grading-reporter@v1', env: { 'CNN-ORACLE_RESULTS': '${{steps.cnn-oracle.outputs.result}}' }, with: { runners: 'cnn-oracle' } },
        ],
      },
    },
  };
  files.set(
    '.github/workflows/classroom.yml',
    {
      data: Buffer.from(
        `# GitHub Classroom autograding with cnn-oracle ${VERSION}, written by \`cnn-oracle export classroom\`.\n` +
          '# GitHub Classroom hides nothing from students: this workflow, the assignment and its cases live in their\n' +
          '# repository. The sandbox runs where the runner allows it (bubblewrap); --unsafe-no-sandbox lets grading go on\n' +
          '# where it does not, since each run is the student’s own virtual machine and nothing in it is secret.\n' +
          YAML.stringify(workflow, { lineWidth: 0 }),
      ),
    },
  );
  return files;
}

/** Writes an export; returns the files written (relative paths). */
export function exportTo(platform: Platform, o: ExportOptions): string[] {
  if (!existsSync(o.assignment)) throw new UsageError(`${o.assignment}: no such assignment file`);
  if (o.adapter && !existsSync(o.adapter)) throw new UsageError(`--adapter ${o.adapter}: no such file`);
  const tarball = o.tarball ?? packTarball();
  try {
    const files = platform === 'gradescope' ? gradescopeFiles(o, tarball) : platform === 'prairielearn' ? prairielearnFiles(o, tarball) : classroomFiles(o, tarball);
    if (platform === 'gradescope') {
      const zip: Zippable = {};
      for (const [name, f] of files) zip[name] = [new Uint8Array(f.data), { os: 3, attrs: (f.exec ? 0o100755 : 0o100644) << 16, mtime: new Date('2026-01-01T00:00:00Z') }];
      mkdirSync(dirname(resolve(o.out)), { recursive: true });
      writeFileSync(o.out, zipSync(zip, { level: 6 }));
    } else {
      if (existsSync(o.out) && readdirSync(o.out).length) throw new UsageError(`${o.out}: the folder is not empty`);
      for (const [name, f] of files) {
        const p = join(o.out, name);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, f.data);
        if (f.exec) chmodSync(p, 0o755);
      }
    }
    return [...files.keys()];
  } finally {
    if (!o.tarball) rmSync(dirname(tarball), { recursive: true, force: true });
  }
}

