import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
  put,
} from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('customized-files', () => {
  it('passes when every vendor file matches the manifest (data, var/ and .uplift/ do not count)', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'data/alice/in.txt', 'upload');
    await put(install, 'var/log/xferlog', 'a line\n');
    await put(install, '.uplift/lock', '{"pid":1}');

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: 'every file matches the vendor release of 5.3.0 Patch 1',
    });
  });

  it('warns, saying what uplift does with each, when changes are merged, kept or restored', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'conf/start-script.conf', 'HEAP_MB=1024\nHTTP_PORT=8080\n');
    await put(install, 'conf/partners.txt', 'acme\n');
    await rm(join(install, 'conf/crontab'));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message:
        '3 customized files (1 merged, 1 kept, 1 restored): conf/start-script.conf changed, conf/partners.txt added and conf/crontab removed',
    });
    expect(result.details?.files).toEqual([
      expect.objectContaining({
        path: 'conf/start-script.conf',
        change: 'changed',
        action: 'merge',
      }),
      expect.objectContaining({ path: 'conf/partners.txt', change: 'added', action: 'keep' }),
      expect.objectContaining({ path: 'conf/crontab', change: 'removed', action: 'restore' }),
    ]);
  });

  it('fails when the upgrade would overwrite a changed file it cannot merge', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'conf/start-script.conf', 'HEAP_MB=1024\nHTTP_PORT=8080\n');
    await put(install, 'bin/start_all', '#!/bin/sh\n# started with a bigger heap by hand\n');

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message:
        '2 customized files (1 merged, 1 replaced): bin/start_all changed and conf/start-script.conf changed',
      remediation: expect.stringMatching(
        /^the upgrade overwrites your changes to bin\/start_all: /,
      ),
    });
    expect(result.details?.files).toContainEqual(
      expect.objectContaining({ path: 'bin/start_all', action: 'replace' }),
    );
  });

  it('asks for the vendor manifest when the installation keeps none (securetransport)', async () => {
    const { install } = await makeSecureTransportInstall();

    const result = await api.run(await buildCheckContext({ install, to: '5.5' }));

    expect(result).toMatchObject({
      status: 'warn',
      remediation:
        "give the vendor manifest of 5.3.6 Patch 2 (the list of that release's files with their hashes) as --vendor-manifest to the same check command, and check again; its options:\nuplift check --help",
    });
  });
});
