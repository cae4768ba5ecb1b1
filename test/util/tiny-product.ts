import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { isAlive } from '../../src/util/index.ts';
import { repoRoot } from './run-cli.ts';

/**
 * "tiny", a product no module under src/ knows: a small HTTP service whose profile
 * (test/fixtures/tiny-product/profile) declares a `run` service, an HTTP readiness probe with a
 * stability window and an HTTP smoke test. Its 2.0.0 can be built broken in the ways a real new
 * version breaks: it exits 2 s after start, never becomes ready, or fails its smoke test.
 */
export type TinyMode = 'ok' | 'exit-after-2s' | 'never-ready' | 'smoke-fails';

const serverSource = `import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const read = (f) => readFileSync(new URL(f, import.meta.url), 'utf8').trim();
const version = read('./VERSION');
const mode = read('./MODE');
const port = Number(read('./config/port'));
const server = createServer((req, res) => {
  if (req.url === '/health') {
    if (mode === 'never-ready') {
      res.writeHead(503);
      return res.end('starting');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ version }));
  }
  if (req.url === '/work') {
    if (mode === 'smoke-fails') {
      res.writeHead(500);
      return res.end('broken');
    }
    return res.end('done');
  }
  res.writeHead(404);
  res.end();
});
server.listen(port, '127.0.0.1');
if (mode === 'exit-after-2s') setTimeout(() => process.exit(3), 2000);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/** The catalog's platform id for this machine (src/detect/host.ts spells them so). */
export function platformId(): string {
  const arch = { x64: 'x86-64', arm64: 'arm64' }[process.arch as string] ?? process.arch;
  return `${process.platform}-${arch}`;
}

/** A release source folder of tiny: what its vendor ships for `version`. */
export async function writeTinyRelease(
  dir: string,
  version: string,
  mode: TinyMode,
): Promise<void> {
  await mkdir(join(dir, 'config'), { recursive: true });
  await writeFile(join(dir, 'server.mjs'), serverSource);
  await writeFile(join(dir, 'VERSION'), `${version}\n`);
  await writeFile(join(dir, 'MODE'), `${mode}\n`);
  await writeFile(join(dir, 'config/port'), '8080\n');
  await writeFile(
    join(dir, 'config/service.properties'),
    `# tiny ${version} settings\nworkers=2\n${version.startsWith('2.') ? 'cache=on\n' : ''}`,
  );
}

/**
 * Copies the fixture profile into `dir` (an outside folder) with this machine's platform.
 * `risky`: 2.0.0 gets an incompatibility over a fact detection does not give, so the plan's
 * verdict is `not-recommended` and apply needs `--accept-risk`.
 */
export async function copyTinyProfile(
  dir: string,
  opts: { risky?: boolean } = {},
): Promise<string> {
  await cp(join(repoRoot, 'test/fixtures/tiny-product/profile'), dir, { recursive: true });
  const catalog = join(dir, 'catalog.yaml');
  let text = (await readFile(catalog, 'utf8')).replaceAll('PLATFORM', platformId());
  if (opts.risky)
    text = text.replace(
      'durations:',
      `incompatibilities:
  - id: strict-cache
    title: 2.0.0 refuses a strict cache mode
    introducedIn: 2.0.0
    when: { fact: settings.cacheMode, equals: strict }
    severity: action
    action: Set cacheMode to lax before the upgrade.
durations:`,
    );
  await writeFile(catalog, text);
  return dir;
}

/** Starts the installation the way its profile's `run` service does (for the state before a run). */
export async function startTiny(install: string): Promise<number> {
  await mkdir(join(install, 'run'), { recursive: true });
  await mkdir(join(install, 'logs'), { recursive: true });
  const child = spawn(process.execPath, ['server.mjs'], {
    cwd: install,
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  await writeFile(join(install, 'run/server.pid'), `${child.pid}\n`);
  const port = Number((await readFile(join(install, 'config/port'), 'utf8')).trim());
  for (let i = 0; i < 100; i++) {
    if ((await health(port)) !== undefined) return child.pid as number;
    await sleep(50);
  }
  throw new Error('tiny did not start');
}

/** The version /health answers with, or undefined when nothing answers. */
export async function health(port: number): Promise<string | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    if (r.status !== 200) return undefined;
    return ((await r.json()) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The pid in the installation's pid file, which must be alive. */
export async function livePid(install: string): Promise<number> {
  const pid = Number((await readFile(join(install, 'run/server.pid'), 'utf8')).trim());
  expect(isAlive(pid)).toBe(true);
  return pid;
}
