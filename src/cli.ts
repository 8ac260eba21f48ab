#!/usr/bin/env node
/** The `cnn-oracle` bin: the program of src/cli/index.ts on this process's streams. */
import { run } from './cli/index.js';

// A reader that goes away (`cnn-oracle eval … | head`) ends the run quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`cnn-oracle: cannot write to standard output: ${e.message}\n`);
  process.exit(1);
});
process.exitCode = await run(process.argv.slice(2));
