import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall, put } from '../../../test/util/install-tree.ts';
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

  it('does not pass when files were changed, added or removed, saying what uplift does with each', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'conf/start-script.conf', 'HEAP_MB=1024\nHTTP_PORT=8080\n');
    await put(install, 'lib/server.js', '// patched by hand\nsetInterval(() => {}, 1000);\n');
    await put(install, 'conf/partners.txt', 'acme\n');
    await rm(join(install, 'conf/crontab'));

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'warn',
      message:
        '4 customized files (1 merged, 1 replaced, 1 kept, 1 restored): conf/start-script.conf changed, lib/server.js changed, conf/partners.txt added and conf/crontab removed',
      remediation: expect.stringMatching(/^the upgrade replaces lib\/server.js: /),
    });
    expect(result.details?.files).toEqual([
      expect.objectContaining({
        path: 'conf/start-script.conf',
        change: 'changed',
        action: 'merge',
      }),
      expect.objectContaining({ path: 'lib/server.js', change: 'changed', action: 'replace' }),
      expect.objectContaining({ path: 'conf/partners.txt', change: 'added', action: 'keep' }),
      expect.objectContaining({ path: 'conf/crontab', change: 'removed', action: 'restore' }),
    ]);
  });
});
