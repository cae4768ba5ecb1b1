import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanUp,
  makeSecureTransportInstall,
  makeSkiffInstall,
  startServer,
} from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

describe('services-stopped', () => {
  it('passes before the downtime when nothing runs', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
      stage: 'downtime',
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({ status: 'pass', message: expect.stringMatching(/no service/) });
  });

  it('passes while preparing when the server runs: uplift stops it at the downtime', async () => {
    const { install } = await makeSkiffInstall();
    const pid = await startServer(install, 'var/run/skiff.pid');
    const ctx = await buildCheckContext({ install, to: 'latest' });

    const result = await api.run(ctx);

    expect(result.status).toBe('pass');
    expect(result.message).toContain(`server (pid ${pid}) running`);
  });

  it('fails --for downtime while the server still runs', async () => {
    const { install } = await makeSkiffInstall();
    const pid = await startServer(install, 'var/run/skiff.pid');
    const ctx = await buildCheckContext({
      install,
      to: 'latest',
      stage: 'downtime',
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'fail',
      message: expect.stringContaining(`server (pid ${pid})`),
      remediation: `run bin/stop_all in ${install}`,
    });
  });

  it('warns while preparing when the vendor wants the backup taken with services stopped', async () => {
    const { install } = await makeSecureTransportInstall();
    await startServer(install, 'var/run/tomcat.pid');
    const ctx = await buildCheckContext({
      install,
      to: '5.5',
    });

    const result = await api.run(ctx);

    expect(result).toMatchObject({
      status: 'warn',
      remediation: expect.stringContaining('before the backup'),
    });
  });
});
