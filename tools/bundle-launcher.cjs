#!/usr/bin/env node
'use strict';
// uplift's command-line entry (package.json `bin`), copied to dist/bundle/uplift.cjs by
// tools/bundle.ts with the build's id filled in. It runs cli.cjs, the whole CLI in one CommonJS
// file, through a V8 code cache: Node 20 has no compile cache of its own, and compiling the CLI
// was most of a start. The cache is made by the build (from a plan on the sample facts) and is
// remade, at the end of a run, wherever it is missing, damaged or rejected by V8 (another Node,
// other V8 flags). V8 checks a cache's version, flags and source length, but not its bytes: one
// flipped bit can abort the process with "Invalid bytecode". So the file starts with the SHA-256
// of what follows, and a cache that does not match it is not used. The file name carries the
// build and the Node version so that a cache never meets another build's code.
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, unlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const Module = require('node:module');
const vm = require('node:vm');

const build = '@BUILD@';

// A bare `uplift --version` is answered here, with what the CLI itself printed for it at build
// time: loading the CLI to print one constant would cost a start ten times this one.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V'))
  process.stdout.write('@VERSION@');
else run();

function run() {
  const file = join(__dirname, 'cli.cjs');
  const cacheFile = join(__dirname, `cli-${build}-${process.version}-${process.arch}.v8cache`);

  const sha256 = (bytes) => createHash('sha256').update(bytes).digest();
  let cachedData;
  try {
    const bytes = readFileSync(cacheFile);
    const payload = bytes.subarray(32);
    if (sha256(payload).equals(bytes.subarray(0, 32))) cachedData = payload;
  } catch {
    // No cache yet: compile as usual, and leave one behind.
  }
  const script = new vm.Script(Module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
  });
  if (cachedData === undefined || script.cachedDataRejected)
    process.once('exit', () => {
      // After the run, so the cache holds every function the run compiled. Best effort: a
      // read-only install runs uncached, as it would without this file.
      const tmp = `${cacheFile}.${process.pid}`;
      try {
        const payload = script.createCachedData();
        writeFileSync(tmp, Buffer.concat([sha256(payload), payload]));
        renameSync(tmp, cacheFile);
      } catch {
        try {
          unlinkSync(tmp);
        } catch {}
      }
    });
  const cli = new Module(file, module);
  cli.filename = file;
  cli.paths = Module._nodeModulePaths(__dirname);
  script
    .runInThisContext()
    .call(cli.exports, cli.exports, Module.createRequire(file), cli, file, __dirname);
}
