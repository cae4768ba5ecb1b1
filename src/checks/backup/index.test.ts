import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall, put } from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('backup', () => {
  it('passes with a backup beside the installation made after its last change', async () => {
    const { root, install } = await makeSkiffInstall();
    const backup = join(root, 'skiff-backup-20250101T020000Z.tar.gz');
    const archive = gzipSync(Buffer.alloc(4096));
    await put(root, 'skiff-backup-20250101T020000Z.tar.gz', archive);
    const later = new Date(Date.now() + 60_000);
    await utimes(backup, later, later);
    // Uploads and logs change all the time; they do not make a backup out of date.
    await put(install, 'data/alice/new.txt', 'after the backup');

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: expect.stringContaining(
        `backup skiff-backup-20250101T020000Z.tar.gz (${archive.length} B, `,
      ),
      details: { backup: { file: backup, size: archive.length } },
    });
  });

  it('does not pass without a backup', async () => {
    const { root, install } = await makeSkiffInstall();

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message: `no backup of the installation found (looked for ${join(root, 'skiff-backup-*.tar.gz')})`,
      remediation: expect.stringMatching(/^back up the installation right before the upgrade/),
    });
  });

  it('does not pass when the installation changed after the newest backup', async () => {
    const { root, install } = await makeSkiffInstall();
    await put(root, 'skiff-backup-20240101T020000Z.tar.gz', gzipSync(Buffer.alloc(4096)));
    const earlier = new Date(Date.now() - 86_400_000);
    await utimes(join(root, 'skiff-backup-20240101T020000Z.tar.gz'), earlier, earlier);
    await put(install, 'conf/skiff.properties', 'http.port=9090\n');

    const result = await check(install);

    expect(result.status).toBe('warn');
    expect(result.message).toContain("older than the installation's last change");
  });

  it.each`
    content                         | damage
    ${Buffer.alloc(0)}              | ${'is empty'}
    ${Buffer.from('not a tarball')} | ${'is not a gzip file'}
  `('fails when the newest backup $damage', async ({ content, damage }) => {
    const { root, install } = await makeSkiffInstall();
    await put(root, 'skiff-backup-20250101T020000Z.tar.gz', gzipSync(Buffer.alloc(4096)));
    const older = new Date(Date.now() - 3_600_000);
    await utimes(join(root, 'skiff-backup-20250101T020000Z.tar.gz'), older, older);
    await put(root, 'skiff-backup-20250102T020000Z.tar.gz', content);
    const later = new Date(Date.now() + 60_000);
    await utimes(join(root, 'skiff-backup-20250102T020000Z.tar.gz'), later, later);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `the newest backup skiff-backup-20250102T020000Z.tar.gz ${damage}: a restore from it would fail`,
      remediation: expect.stringContaining(
        `delete ${join(root, 'skiff-backup-20250102T020000Z.tar.gz')}`,
      ),
    });
  });
});
