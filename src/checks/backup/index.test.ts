import { rename, truncate, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceOf } from '../../../test/util/backup-tree.ts';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
  put,
  startServer,
} from '../../../test/util/install-tree.ts';
import { createBackup } from '../../backup/index.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

async function check(install: string, to = 'latest') {
  return api.run(await buildCheckContext({ install, to }));
}

describe('backup', () => {
  it('passes with an uplift backup made after the last change of the installation', async () => {
    const { install } = await makeSkiffInstall();
    const backup = await createBackup({ install });
    // Uploads and logs change all the time; they do not make a backup out of date.
    await put(install, 'data/alice/new.txt', 'after the backup');

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: expect.stringContaining(`backup ${basename(backup.file)} (`),
      details: {
        backup: { file: backup.file, writtenBy: 'uplift', consistency: 'offline' },
      },
    });
  });

  it('passes with a tar.gz another tool wrote, going by its modification time', async () => {
    const { root, install } = await makeSkiffInstall();
    const backup = join(root, 'skiff-backup-nightly.tar.gz');
    await put(root, 'skiff-backup-nightly.tar.gz', gzipSync(Buffer.alloc(4096)));
    const later = new Date(Date.now() + 60_000);
    await utimes(backup, later, later);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      details: { backup: { file: backup, writtenBy: 'another tool' } },
    });
  });

  it('does not pass without a backup', async () => {
    const { root, install } = await makeSkiffInstall();

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message: `no backup of the installation found (looked for ${join(root, 'skiff-backup-*.tar.gz')})`,
      remediation: `back up the installation right before the upgrade:\nuplift backup --install ${install}`,
    });
  });

  it('names the installation in its command as one shell word, however its path is spelled', async () => {
    const { root, install: made } = await makeSkiffInstall();
    const install = join(root, "ops' skiff");
    await rename(made, install);

    const result = await check(install);

    expect(result.remediation).toBe(
      `back up the installation right before the upgrade:\nuplift backup --install '${root}/ops'\\'' skiff'`,
    );
  });

  it('does not pass when the installation changed after the newest backup', async () => {
    const { install } = await makeSkiffInstall();
    await createBackup({ install, now: new Date(Date.now() - 86_400_000) });
    await put(install, 'conf/skiff.properties', 'http.port=9090\n');

    const result = await check(install);

    expect(result.status).toBe('warn');
    expect(result.message).toContain("older than the installation's last change");
  });

  it('does not pass a backup taken while securetransport ran: it wants everything stopped', async () => {
    const { install } = await makeSecureTransportInstall();
    await startServer(install, 'var/run/tm.pid');
    await createBackup({ install, service: serviceOf(install) });

    const result = await check(install, '5.5');

    expect(result).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('was taken while the service ran'),
      remediation: `back up the installation right before the upgrade:\nuplift backup --install ${install} --stop`,
      details: { backup: { consistency: 'online' } },
    });
  });

  it('fails when the newest uplift backup is cut short before its header ends', async () => {
    const { install } = await makeSkiffInstall();
    const backup = await createBackup({ install });
    // A copy that stopped early; the check reads only the header (uplift backup --verify reads all).
    await truncate(backup.file, 30);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `the newest backup ${basename(backup.file)} is damaged (UPLIFT_BACKUP_TRUNCATED): a restore from it would fail`,
      remediation: `delete ${backup.file}, then back up the installation right before the upgrade:\nuplift backup --install ${install}`,
    });
  });

  it.each`
    content                         | damage
    ${Buffer.alloc(0)}              | ${'is empty'}
    ${Buffer.from('not a tarball')} | ${'is not a gzip file'}
  `('fails when the newest backup $damage', async ({ content, damage }) => {
    const { root, install } = await makeSkiffInstall();
    await createBackup({ install, now: new Date(Date.now() - 3_600_000) });
    const newest = join(root, 'skiff-backup-29990101T000000Z.tar.gz');
    await writeFile(newest, content);
    const later = new Date(Date.now() + 60_000);
    await utimes(newest, later, later);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `the newest backup ${basename(newest)} ${damage}: a restore from it would fail`,
    });
  });
});
