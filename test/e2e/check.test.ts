import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/util/index.ts';
import { cleanUp, deadPid, makeSkiffInstall, put, startServer } from '../util/install-tree.ts';
import { faultsCliPath, repoRoot, runCliProcess } from '../util/run-cli.ts';

/** `uplift check` as an operator runs it: the built CLI, a real installation, real processes. */
afterEach(cleanUp);

async function readyInstall(): Promise<{ root: string; install: string }> {
  const made = await makeSkiffInstall();
  const backup = join(made.root, 'skiff-backup-20250101T020000Z.tar.gz');
  await put(made.root, 'skiff-backup-20250101T020000Z.tar.gz', gzipSync(Buffer.alloc(1024)));
  const later = new Date(Date.now() + 60_000);
  await utimes(backup, later, later);
  return made;
}

/** The heading of the group a check is listed under in the text view (`Passed (3)` …). */
function groupOf(stdout: string, id: string): string | undefined {
  let heading: string | undefined;
  for (const line of stdout.split('\n')) {
    if (/^[A-Z]/.test(line)) heading = line;
    if (line.startsWith(`  • ${id}:`)) return heading;
  }
  return undefined;
}

describe('uplift check', () => {
  it('exits 0 and prints the verdict first, then the checks grouped, when nothing fails', async () => {
    const { install } = await readyInstall();

    const r = runCliProcess(['check', '--install', install, '--to', '5.5 GA']);

    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^ready — \d+ passed, 0 warned, 0 failed, 0 skipped$/);
    expect(lines[1]).toContain('skiff 5.3.0 Patch 1 → 5.5 GA');
    expect(groupOf(r.stdout, 'leftover-pids')).toMatch(/^Passed \(\d+\)$/);
    expect(r.stdout).not.toMatch(/[│┌└─]/);
  });

  it('wraps to --width: no line longer, each check still under its group', async () => {
    const { install } = await readyInstall();
    await put(install, 'var/run/skiff.pid', `${deadPid()}\n`);

    const r = runCliProcess(['check', '--install', install, '--to', '5.5 GA', '--width', '40']);

    expect(r.code).toBe(3);
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(40);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /^1 failed: fix it before upgrading — \d+ passed, 0 warned, 1 failed, 0 skipped /,
    );
    expect(groupOf(r.stdout, 'leftover-pids')).toMatch(/^Failed \(1\)/);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('to do: remove var/run/skiff.pid');
  });

  it('exits 3 with JSON naming the failed check when a pid file outlived its process', async () => {
    const { install } = await readyInstall();
    const pid = deadPid();
    await put(install, 'var/run/skiff.pid', `${pid}\n`);

    const r = runCliProcess(['check', '--install', install, '--json']);

    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      install,
      profile: 'skiff',
      from: '5.3.0 Patch 1',
      to: '5.5 GA',
      stage: 'prepare',
      summary: { fail: 1 },
    });
    expect(report.results.find((x: { id: string }) => x.id === 'leftover-pids')).toEqual({
      id: 'leftover-pids',
      title: 'No leftover pid files or processes',
      status: 'fail',
      message: `var/run/skiff.pid names pid ${pid}, which is not running`,
      remediation: 'remove var/run/skiff.pid',
      details: { stalePidFiles: [{ file: 'var/run/skiff.pid', pid }], processes: [] },
      tasks: ['leftover-pids'],
    });
    expect(report.results.map((x: { id: string }) => x.id)).toEqual([
      'backup',
      'outside-links',
      'disk-space',
      'services-stopped',
      'leftover-pids',
      'owner',
      'customized-files',
      'history-folders',
      'one-upgrade-at-a-time',
    ]);
  });

  it('exits 3 when the server runs and the downtime is next', async () => {
    const { install } = await readyInstall();
    await startServer(install, 'var/run/skiff.pid');

    const r = runCliProcess([
      'check',
      '--install',
      install,
      '--for',
      'downtime',
      '--only',
      'services-stopped,leftover-pids',
    ]);

    expect(r.code).toBe(3);
    expect(r.stdout.replace(/\s+/g, ' ')).toMatch(
      /^1 failed: fix it before upgrading — 1 passed, 0 warned, 1 failed, 0 skipped /,
    );
    expect(groupOf(r.stdout, 'services-stopped')).toMatch(/^Failed \(1\)/);
    expect(groupOf(r.stdout, 'leftover-pids')).toMatch(/^Passed \(1\)/);
    const failed = r.stdout.indexOf('services-stopped');
    expect(failed).toBeLessThan(r.stdout.indexOf('leftover-pids'));
  });

  it('exits 3 after uplift restore was killed before its swap, saying how to finish it', async () => {
    const { install } = await readyInstall();
    const backup = JSON.parse(runCliProcess(['backup', '--install', install, '--json']).stdout);
    const killed = spawnSync(
      process.execPath,
      [faultsCliPath, 'restore', backup.file, '--install', install, '--no-progress'],
      { env: { ...process.env, UPLIFT_TEST_CRASH_AT: 'restore-before-swap' } },
    );
    expect(killed.signal).toBe('SIGKILL');

    const r = runCliProcess([
      'check',
      '--install',
      install,
      '--only',
      'one-upgrade-at-a-time',
      '--json',
    ]);

    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({
      status: 'fail',
      message: `a restore of ${install} from ${backup.file} was interrupted`,
      remediation: `Finish it:\nuplift restore ${backup.file} --install ${install}`,
    });
  });

  it('exits 2 with a coded JSON error for an unknown check', async () => {
    const { install } = await readyInstall();

    const r = runCliProcess(['check', '--install', install, '--only', 'disk', '--json']);

    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      error: { code: 'UPLIFT_CHECK_UNKNOWN', hint: expect.stringContaining('disk-space') },
    });
  });

  it('exits 2 when the installation does not exist', () => {
    const r = runCliProcess(['check', '--install', '/nonexistent/skiff', '--profile', 'skiff']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UPLIFT_DETECT_NOT_INSTALLATION');
  });
});

const skiffProduct = join(repoRoot, 'products/skiff/src/index.ts');

interface SkiffApi {
  buildReleaseTree(version: string, out: string): { tree: string };
  installRelease(tree: string, dir: string): { install: string };
  startInstallation(dir: string): Promise<{ pid: number }>;
  stopInstallation(dir: string): Promise<unknown>;
}

/**
 * A release built and installed by products/skiff (vitest's global setup compiled its server),
 * its real server and scheduler started by its own bin/start_all.
 */
describe('uplift check on a real skiff 5.4 GA installation', () => {
  let skiff: SkiffApi;
  let tmp: string;
  let install: string;
  const started: number[] = [];

  beforeAll(async () => {
    skiff = (await import(skiffProduct)) as SkiffApi;
    tmp = await mkdtemp(join(tmpdir(), 'uplift-check-real-'));
    const { tree } = skiff.buildReleaseTree('5.4 GA', join(tmp, 'releases'));
    install = skiff.installRelease(tree, join(tmp, 'skiff')).install;
  });

  afterAll(async () => {
    await skiff.stopInstallation(install).catch(() => undefined);
    for (const pid of started) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await rm(tmp, { recursive: true, force: true });
  });

  it('passes every check but the backup on the fresh, stopped installation', () => {
    const r = runCliProcess(['check', '--install', install, '--json']);

    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ profile: 'skiff', from: '5.4 GA', to: '5.5 GA' });
    const notPassing = report.results.filter((x: { status: string }) => x.status !== 'pass');
    expect(notPassing).toEqual([expect.objectContaining({ id: 'backup', status: 'warn' })]);
    expect(r.code).toBe(0);
  });

  it('passes every check once uplift backup has backed it up', () => {
    const backup = runCliProcess(['backup', '--install', install, '--no-progress']);
    expect(backup.code).toBe(0);

    const r = runCliProcess(['check', '--install', install, '--json']);

    expect(JSON.parse(r.stdout).summary).toEqual({ pass: 9, warn: 0, fail: 0, skip: 0 });
    expect(r.code).toBe(0);
  });

  it('fails services-stopped --for downtime while bin/start_all has the server running', async () => {
    const { pid } = await skiff.startInstallation(install);
    started.push(pid);

    const r = runCliProcess(['check', '--install', install, '--for', 'downtime', '--json']);

    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout);
    const byId = (id: string) => report.results.find((x: { id: string }) => x.id === id);
    expect(byId('services-stopped')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`server (pid ${pid})`),
      remediation: `run bin/stop_all in ${install}`,
    });
    // The scheduler has its own pid file, and the server's children are the server's.
    expect(byId('leftover-pids')).toMatchObject({ status: 'pass' });
  });

  it('fails leftover-pids after the server is killed and its pid file stays', async () => {
    const pidFile = join(install, 'var/run/skiff.pid');
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isAlive(pid));

    const r = runCliProcess(['check', '--install', install, '--only', 'leftover-pids', '--json']);

    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout).results[0]).toMatchObject({
      status: 'fail',
      message: `var/run/skiff.pid names pid ${pid}, which is not running`,
      remediation: 'remove var/run/skiff.pid',
    });
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
}
