#!/usr/bin/env node
import { run } from './program.ts';
import { invocationPrefix } from './ui/invocation.ts';

// A reader that stops early (`uplift … | head`) closes the pipe: stop writing quietly, as other
// command-line tools do, instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });

// The only place that sets the process's exit code. No top-level await: the bundle is CommonJS.
void run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTty: process.stdout.isTTY === true,
  columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
  invokedAs: invocationPrefix({ env: process.env, script: process.argv[1], cwd: process.cwd() }),
}).then((code) => {
  process.exitCode = code;
});
