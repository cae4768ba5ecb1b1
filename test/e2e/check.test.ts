import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, deadPid, makeSkiffInstall, put, startServer } from '../util/install-tree.ts';
import { runCliProcess } from '../util/run-cli.ts';

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

describe('uplift check', () => {
  it('exits 0 and prints the table when nothing fails', async () => {
    const { install } = await readyInstall();

    const r = runCliProcess(['check', '--install', install, '--to', '5.5 GA']);

    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('skiff 5.3.0 Patch 1 → 5.5 GA');
    expect(r.stdout).toMatch(/pass\s+│ leftover-pids/);
    expect(r.stdout).toMatch(/\d+ passed, 0 warned, 0 failed, 0 skipped — ready/);
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
    expect(r.stdout).toMatch(/FAIL\s+│ services-stopped/);
    expect(r.stdout).toMatch(/pass\s+│ leftover-pids/);
    expect(r.stdout).toContain('1 passed, 0 warned, 1 failed, 0 skipped');
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
