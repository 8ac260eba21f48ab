/**
 * `node --import …/trace-loads.mjs SCRIPT`: appends the URL of every module the process loads, one
 * a line, to the file named by $CNN_ORACLE_TRACE_LOADS (tests/cli.test.ts: what a start-up loads).
 * This file is both the preload, on the main thread, and the loader hook the preload registers,
 * which Node runs on a thread of its own. ES modules and the CommonJS packages they import pass
 * through the hook; the CommonJS files those require do not, and are read from require.cache when
 * the process exits.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const out = process.env.CNN_ORACLE_TRACE_LOADS;

export async function load(url, context, next) {
  appendFileSync(out, url + '\n');
  return next(url, context);
}

if (isMainThread) {
  register(import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => appendFileSync(out, Object.keys(cache).map((f) => pathToFileURL(f).href + '\n').join('')));
}
