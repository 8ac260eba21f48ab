/** Writes fixtures/**.jsonl from the registry (src/fixtures.ts). Usage: npm run fixtures */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/ops/index.js';
import { buildFixtures } from '../src/fixtures.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const files = buildFixtures();
// remove stale .jsonl files of ops that no longer exist
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
mkdirSync(root, { recursive: true });
for (const f of walk(root)) if (f.endsWith('.jsonl') && !files.has(f.slice(root.length + 1))) rmSync(f);
for (const [rel, text] of files) {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}
console.log(`wrote ${files.size} fixture files under fixtures/`);
