#!/usr/bin/env node
import { run } from './program.ts';

// The only place that sets the process's exit code.
process.exitCode = await run(process.argv.slice(2), {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  isTty: process.stdout.isTTY === true,
});
