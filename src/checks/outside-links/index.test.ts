import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall, put } from '../../../test/util/install-tree.ts';
import { hashTree } from '../../../test/util/tree-hash.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('outside-links', () => {
  it('passes when every link stays inside the installation', async () => {
    const { install } = await makeSkiffInstall();
    await symlink('skiff.properties', join(install, 'conf/current.properties'));

    const result = await check(install);

    expect(result).toEqual({
      status: 'pass',
      message: 'no link leaves the installation',
      details: { links: [] },
    });
  });

  it('passes when the only link that leaves is declared data, and names it', async () => {
    const { root, install } = await makeSkiffInstall();
    await mkdir(join(root, 'disk2/uploads'), { recursive: true });
    await mkdir(join(install, 'data'), { recursive: true });
    // skiff's profile declares data/** as data.
    await symlink(join(root, 'disk2/uploads'), join(install, 'data/store'));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: `1 link leaves the installation; declared data, backed up through: data/store -> ${join(root, 'disk2/uploads')}`,
    });
  });

  it('warns naming each link that leaves and is not data, and says which are data', async () => {
    const { root, install } = await makeSkiffInstall();
    await put(root, 'disk2/conf/security.properties', 'tls.protocols=TLSv1.3\n');
    await mkdir(join(root, 'disk2/uploads'));
    await mkdir(join(install, 'data'), { recursive: true });
    await symlink(join(root, 'disk2/uploads'), join(install, 'data/store'));
    await symlink('../../disk2/conf/security.properties', join(install, 'conf/linked.properties'));
    await symlink('/nonexistent/keys', join(install, 'keys'));
    const before = await hashTree(install);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message: `3 links leave the installation; declared data, backed up through: data/store -> ${join(root, 'disk2/uploads')}; not data, the backup holds the link only: conf/linked.properties -> ../../disk2/conf/security.properties and keys -> /nonexistent/keys (missing)`,
      remediation: expect.stringContaining('paths.data'),
    });
    expect(result.details?.links).toEqual([
      expect.objectContaining({ path: 'conf/linked.properties', data: false, exists: true }),
      expect.objectContaining({ path: 'data/store', data: true, exists: true }),
      expect.objectContaining({ path: 'keys', data: false, exists: false }),
    ]);
    expect((await hashTree(install)).records).toEqual(before.records);
  });
});
