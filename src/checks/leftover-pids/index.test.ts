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

afterEach(cleanUp);

async function check(install: string) {
  return api.run(await buildCheckContext({ install, to: 'latest' }));
}

describe('leftover-pids', () => {
  it('passes when nothing runs and var/run is empty', async () => {
    const { install } = await makeSkiffInstall();

    const result = await check(install);

    expect(result).toMatchObject({ status: 'pass' });
    expect(result.message).toBe(
      'no leftover pid file (0 of 1 service running); no other process of the installation',
    );
  });

  it('passes when every pid file names the running server', async () => {
    const { install } = await makeSkiffInstall();
    await startServer(install, 'var/run/skiff.pid');

    const result = await check(install);

    expect(result.status).toBe('pass');
    expect(result.message).toMatch(/^no leftover pid file \(1 of 1 service running\)/);
  });

  it('fails on a pid file whose process is gone, saying to remove it', async () => {
    const { install } = await makeSkiffInstall();
    const pid = deadPid();
    await put(install, 'var/run/skiff.pid', `${pid}\n`);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: `var/run/skiff.pid names pid ${pid}, which is not running`,
      remediation: 'remove var/run/skiff.pid',
    });
  });

  it('fails on a pid file whose pid now belongs to another program', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'var/run/scheduler.pid', `${process.pid}\n`);

    const result = await check(install);

    expect(result.status).toBe('fail');
    expect(result.message).toContain('which is now another program');
  });

  it('fails on a process of the installation that no pid file names', async () => {
    const { install } = await makeSkiffInstall();
    const pid = await startServer(install);

    const result = await check(install);

    expect(result).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`without a pid file: pid ${pid} (`),
      remediation: `stop it (kill ${pid})`,
      details: { processes: [{ pid, command: expect.stringContaining(install) }] },
    });
  });
});
