import { chown, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall } from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

const isRoot = process.getuid?.() === 0;

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('owner', () => {
  it('passes when uplift runs as the owner of the installation', async () => {
    const { install } = await makeSkiffInstall();

    const result = await check(install);

    expect(result).toMatchObject({ status: 'pass', details: { ownerUid: process.getuid?.() } });
  });

  // CI runs as root; a real chown is the only way to get a non-root installation.
  it.runIf(isRoot)('fails when root would upgrade a non-root installation', async () => {
    const { install } = await makeSkiffInstall();
    await chown(install, 1, 1);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('uplift runs as root: upgrading a non-root installation'),
      remediation: expect.stringMatching(
        /^run uplift as (\S+): put sudo -u \1 in front of the same uplift command$/,
      ),
      details: { ownerUid: 1, uid: 0 },
    });
  });

  it.runIf(!isRoot)('fails when another user owns the installation', async () => {
    // Only root can give a real installation away; without root, the facts say who owns it.
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
      factFlags: [`owner.uid=${(process.getuid?.() ?? 0) + 1}`],
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('belongs to'),
    });
  });

  it.runIf(isRoot)('warns when parts of the installation belong to another user', async () => {
    const { install } = await makeSkiffInstall();
    await chown(join(install, 'conf/skiff.properties'), 1, 1);
    await chown(join(install, 'conf/crontab'), 1, 1);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message: expect.stringContaining(
        'but 2 files of the installation belong to another user (conf/crontab and conf/skiff.properties)',
      ),
      remediation: `give them back to root:\nchown -R root ${install}`,
      details: { foreignFiles: 2 },
    });
  });

  it.runIf(isRoot)(
    'quotes the installation in its chown command when the shell would split it',
    async () => {
      const { root, install: made } = await makeSkiffInstall();
      const install = join(root, 'my skiff');
      await rename(made, install);
      await chown(join(install, 'conf/crontab'), 1, 1);

      const result = await check(install);

      expect(result.remediation).toBe(`give them back to root:\nchown -R root '${install}'`);
    },
  );
});
