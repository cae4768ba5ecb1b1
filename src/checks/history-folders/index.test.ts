import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall, put } from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api, limits } from './index.ts';

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('history-folders', () => {
  it('passes with a few archived history files', async () => {
    const { install } = await makeSkiffInstall();
    for (const month of ['2024-01', '2024-02', '2024-03'])
      await put(install, `var/db/hist/${month}/tracking.jsonl`, '{"id":1}\n');

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'pass',
      message: 'var/db/hist holds 3 files, 27 B, within 10,000 files and 1.0 GiB',
      details: { files: 3, bytes: 27 },
    });
  });

  it.each`
    status    | bytes
    ${'warn'} | ${limits.warn.bytes + 1}
    ${'fail'} | ${limits.fail.bytes + 1}
  `('gives $status above its limit, saying to move the history out', async ({ status, bytes }) => {
    const { install } = await makeSkiffInstall();
    await put(install, 'var/db/hist/2023/tracking.jsonl', '');
    // A sparse file: the size an upgrade would have to copy, without using the disk.
    await truncate(join(install, 'var/db/hist/2023/tracking.jsonl'), bytes);

    const result = await check(install);

    expect(result).toMatchObject({
      status,
      message: expect.stringMatching(/^var\/db\/hist holds 1 file, \d+\.\d GiB: more than/),
      remediation: `move the contents of ${install}/var/db/hist outside the installation before the upgrade, and back after it`,
    });
  });
});
