import { statfs } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, makeSkiffInstall, put } from '../../../test/util/install-tree.ts';
import { buildCheckContext } from '../index.ts';
import { api } from './index.ts';

afterEach(cleanUp);

describe('disk-space', () => {
  it('passes when the filesystem holds the packs of the path and a backup', async () => {
    const { install } = await makeSkiffInstall();
    await put(install, 'data/alice/report.csv', 'x'.repeat(100_000));
    const ctx = await buildCheckContext({ install, to: 'latest' });

    const result = await api.run(ctx);

    expect(result.status).toBe('pass');
    expect(result.details).toMatchObject({
      packBytes: ctx.plan?.estimate.downloadBytes,
      backupBytes: expect.any(Number),
    });
    expect(ctx.plan?.estimate.downloadBytes).toBeGreaterThan(0);
    expect(result.details?.backupBytes).toBeGreaterThan(100_000);
  });

  it('fails, saying how much to free, when the packs are larger than the free space', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({ install, to: 'latest' });
    const s = await statfs(install);
    const free = s.bavail * s.bsize;
    const plan = ctx.plan;
    if (plan === undefined) throw new Error('no plan');
    const huge = { ...plan, estimate: { ...plan.estimate, downloadBytes: free * 2 } };

    const result = await api.run({ ...ctx, plan: huge });

    expect(result.status).toBe('fail');
    expect(result.remediation).toMatch(/^free at least \d+(\.\d)? [KMGT]iB on the filesystem of /);
  });

  it('warns when less than twice the margin would be left', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({ install, to: 'latest' });
    const free = await ctx.host.freeBytes(install);
    const backup = ctx.facts.data?.installBytes ?? 0;
    // Choose the need so that one and a half margins are left: the margin is a tenth of the
    // need, and at least 256 MiB.
    const minMargin = 256 * 1024 ** 2;
    const known = free >= 1.15 * 10 * minMargin ? free / 1.15 : free - 1.5 * minMargin;
    const packs = Math.floor(known - backup);
    const plan = ctx.plan;
    if (plan === undefined) throw new Error('no plan');

    const result = await api.run({
      ...ctx,
      plan: { ...plan, estimate: { ...plan.estimate, downloadBytes: packs } },
    });

    expect(result.status).toBe('warn');
  });

  it('asks for the size when it is unknown, with a check command that runs as printed', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({ install, to: 'latest' });
    const facts = { ...ctx.facts, data: { ...ctx.facts.data, installBytes: undefined } };

    const result = await api.run({ ...ctx, facts });

    expect(result).toMatchObject({
      status: 'warn',
      remediation: `measure the installation's size in bytes (du -sb ${install} prints it) and give it as --fact data.installBytes= to the same check command, and check again; its options:\nuplift check --help`,
    });
  });
});
