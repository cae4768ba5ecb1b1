import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
} from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

async function check(install: string) {
  return api.run(
    await buildCheckContext({
      install,
      to: '5.5',
    }),
  );
}

describe('tomcat-port', () => {
  it('passes with the default connector port 8009, ignoring commented-out connectors', async () => {
    const { install } = await makeSecureTransportInstall(8009);
    const xml = join(install, 'tomcat/admin/conf/server.xml');
    const text = await readFile(xml, 'utf8');
    await writeFile(xml, text.replace('<Server ', '<!-- <Connector port="80"/> -->\n<Server '));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: 'Tomcat connector port 8009 above 1024',
      details: { connectors: [{ port: 8009, where: 'tomcat/admin/conf/server.xml:7' }] },
    });
  });

  it.each([1024, 1009])('fails with connector port %i, naming the line', async (port) => {
    const { install } = await makeSecureTransportInstall(port);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `Tomcat connector port ${port} (tomcat/admin/conf/server.xml:6) is not above 1024`,
      remediation: expect.stringContaining(`change every occurrence of port ${port}`),
    });
  });

  it('skips an installation without Tomcat, saying why', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'skip',
      message: expect.stringContaining('no Tomcat connector'),
    });
  });
});
