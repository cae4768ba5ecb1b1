import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  deadPid,
  makeSkiffInstall,
  put,
  startServer,
} from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

function lock(pid: number, boot = bootId): string {
  return JSON.stringify({ pid, bootId: boot, startedAt: '2025-01-01T02:00:00.000Z' });
}

describe('one-upgrade-at-a-time', () => {
  it('passes when no upgrade holds the lock', async () => {
    const { root, install } = await makeSkiffInstall();

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: `no upgrade holds ${join(root, '.skiff.uplift/lock')}`,
    });
  });

  it('fails while a live process of this boot holds the lock', async () => {
    const { root, install } = await makeSkiffInstall();
    const pid = await startServer(install);
    await put(root, '.skiff.uplift/lock', lock(pid));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `another upgrade is running: pid ${pid} holds ${join(root, '.skiff.uplift/lock')} since 2025-01-01T02:00:00.000Z`,
      remediation: expect.stringContaining(`wait for pid ${pid} to finish`),
    });
  });

  it('warns about a stale lock whose process is gone', async () => {
    const { root, install } = await makeSkiffInstall();
    const pid = deadPid();
    await put(root, '.skiff.uplift/lock', lock(pid));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message: expect.stringContaining(`and pid ${pid} is gone`),
      remediation: `finish or undo that run (resume recovers the lock):\nuplift resume --install ${install}`,
    });
  });

  it('warns about a lock from before a reboot, even if its pid is in use again', async () => {
    const { root, install } = await makeSkiffInstall();
    const pid = await startServer(install);
    await put(root, '.skiff.uplift/lock', lock(pid, '00000000-0000-0000-0000-000000000000'));

    const result = await check(install);

    expect(result.status).toBe('warn');
    expect(result.message).toContain('the machine has rebooted since');
  });

  it('warns about a lock it cannot read', async () => {
    const { root, install } = await makeSkiffInstall();
    await put(root, '.skiff.uplift/lock', 'not json');

    const result = await check(install);

    expect(result.status).toBe('warn');
  });

  it('fails while a restore of the installation is running', async () => {
    const { root, install } = await makeSkiffInstall();
    const pid = await startServer(install);
    const journal = {
      format: 'uplift-restore-journal/1',
      backupId: 'b-1',
      backup: join(root, 'skiff-backup-20250101T020000Z.tar.gz'),
      install,
      staging: join(root, '.skiff.uplift-staging-1'),
      old: null,
      state: 'staging',
      pid,
      created: '2025-01-01T02:00:00.000Z',
    };
    await put(root, '.skiff.uplift-restore.json', JSON.stringify(journal));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `a restore of ${install} is running now (pid ${pid})`,
      details: { journal: join(root, '.skiff.uplift-restore.json') },
    });
  });
});
