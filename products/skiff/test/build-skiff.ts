import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const stampFile = join(root, 'dist/.source-hash');
const lock = join(root, 'dist.lock');

function sourceHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(join(root, 'src')).sort()) {
    if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      hash.update(name).update(readFileSync(join(root, 'src', name)));
    }
  }
  return hash.update(readFileSync(join(root, 'tsconfig.json'))).digest('hex');
}

function isFresh(hash: string): boolean {
  try {
    return readFileSync(stampFile, 'utf8') === hash;
  } catch {
    return false;
  }
}

/**
 * Compiles products/skiff into dist/ when the sources changed since the last build: release trees
 * copy the server from there. Test files run in parallel workers, so one builds under a lock
 * folder while the others wait for it.
 */
export function buildSkiff(): void {
  const hash = sourceHash();
  const deadline = Date.now() + 120_000;
  while (!isFresh(hash)) {
    try {
      mkdirSync(lock);
    } catch {
      // A lock older than a build can take was left by a killed worker.
      const since = statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - since > 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      continue;
    }
    try {
      if (!isFresh(hash)) {
        const tsc = join(root, '../../node_modules/typescript/bin/tsc');
        execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], {
          stdio: 'inherit',
        });
        writeFileSync(stampFile, hash);
      }
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}
