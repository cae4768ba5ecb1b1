import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cleanUp,
  deadPid,
  makeSecureTransportInstall,
  makeSkiffInstall,
  put,
} from '../../test/util/install-tree.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { taskCheckIds } from '../catalog/index.ts';
import { listProfiles, loadProfile } from '../profile/index.ts';
import { checks } from './api.ts';
import { buildCheckContext, getCheck, listChecks, runChecks } from './index.ts';

const CheckShape = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case'),
  title: z.string().min(1),
  run: z.function(),
});

const CheckResultShape = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.enum(['pass', 'skip']),
    message: z.string().min(1),
    remediation: z.string().min(1).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  z.strictObject({
    status: z.enum(['warn', 'fail']),
    message: z.string().min(1),
    // The contract: whatever asks the operator to act says how, on one line, and a command it
    // gives stands on a second line of its own (docs/output.md, "Commands in hints").
    remediation: z
      .string()
      .min(1)
      .regex(/^[^\n]+(?:\n[^\n]+)?$/),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
]);

const here = import.meta.dirname;
const docs = readFileSync(join(here, '../../docs/checks.md'), 'utf8');
const profiles = await Promise.all((await listProfiles()).map((name) => loadProfile(name)));
const catalogChecks = new Map<string, string[]>();
for (const p of profiles) {
  for (const t of p.catalog.catalog.tasks) {
    if (t.check === undefined) continue;
    catalogChecks.set(t.check, [
      ...(catalogChecks.get(t.check) ?? []),
      `${p.manifest.name}:${t.id}`,
    ]);
  }
}

afterEach(cleanUp);

describe('checks registry', () => {
  it('registers every check folder, and only those', () => {
    const folders = readdirSync(here, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(here, e.name, 'index.ts')))
      .map((e) => e.name)
      .sort();

    expect([...checks.keys()].sort()).toEqual(folders);
  });

  it('is the list of ids a catalog task may name (catalog/task-checks.ts)', () => {
    expect([...checks.keys()].sort()).toEqual([...taskCheckIds].sort());
  });

  it('has a check for every check: id in the built-in catalogs', () => {
    expect([...catalogChecks.keys()].filter((id) => !checks.has(id))).toEqual([]);
  });

  describe.each([...checks])('%s', (id, check) => {
    it('satisfies the interface under its own id', () => {
      expect(CheckShape.safeParse(check).error).toBeUndefined();
      expect(check.id).toBe(id);
      expect(getCheck(id)).toBe(check);
    });

    it('has a readme.md and a test in its folder', () => {
      expect(existsSync(join(here, id, 'readme.md'))).toBe(true);
      expect(existsSync(join(here, id, 'index.test.ts'))).toBe(true);
    });

    it('is named by a catalog task, or documented as an extra check in docs/checks.md', () => {
      const extra = new RegExp(`^\\| \`${id}\` \\|.*\\| extra \\|$`, 'm').test(docs);

      expect(catalogChecks.has(id) || extra, `no catalog task names ${id}`).toBe(true);
    });

    it('has a section in docs/checks.md', () => {
      expect(docs).toMatch(new RegExp(`^### \`${id}\`$`, 'm'));
    });
  });

  it.each(['skiff', 'securetransport'])(
    'every check returns a contract result and leaves a %s installation as it was',
    async (product) => {
      const { install } =
        product === 'skiff' ? await makeSkiffInstall() : await makeSecureTransportInstall(443);
      // Something for the checks to complain about, so warn and fail results are shaped too.
      await put(install, 'var/run/old.pid', `${deadPid()}\n`);
      const before = await hashTree(install);
      const ctx = await buildCheckContext({
        install,
        to: 'latest',
      });

      const report = await runChecks(ctx, { only: listChecks() });

      for (const r of report.results) {
        const { id, title, tasks, ...result } = r;
        expect(CheckResultShape.safeParse(result).error, id).toBeUndefined();
      }
      expect(report.summary.fail).toBeGreaterThan(0);
      expect((await hashTree(install)).records).toEqual(before.records);
    },
  );

  it("runs the checks the plan's tasks name, in task order, with the tasks each covers", async () => {
    const { install } = await makeSecureTransportInstall();
    const ctx = await buildCheckContext({ install, to: '5.5' });

    const report = await runChecks(ctx);

    const named = [...new Set(ctx.plan?.tasks.flatMap((t) => (t.check ? [t.check] : [])) ?? [])];
    expect(report.results.map((r) => r.id)).toEqual(named);
    expect(report.results.find((r) => r.id === 'backup')?.tasks).toEqual([
      'backup-installation',
      'backup-system-files-unix',
    ]);
  });

  it('warns about a task whose check this uplift does not have, so it is done by hand', async () => {
    const { install } = await makeSkiffInstall();
    const ctx = await buildCheckContext({ install, to: 'latest' });
    const plan = ctx.plan;
    if (plan === undefined) throw new Error('no plan');
    const tasks = [{ id: 'quota-report', title: 'Export the quota report', check: 'quota-report' }];

    const report = await runChecks({ ...ctx, plan: { ...plan, tasks } });

    expect(report.results).toEqual([
      expect.objectContaining({
        id: 'quota-report',
        status: 'warn',
        remediation: 'do the task by hand: Export the quota report',
        tasks: ['quota-report'],
      }),
    ]);
  });

  it('has nothing to check on an installation already at the target', async () => {
    const { install } = await makeSkiffInstall({ version: '5.5 GA' });
    const ctx = await buildCheckContext({ install, to: 'latest' });

    const report = await runChecks(ctx);

    expect(report).toMatchObject({ from: '5.5 GA', to: '5.5 GA', results: [] });
  });

  it('throws UPLIFT_CHECK_UNKNOWN with the known ids for an unknown id', () => {
    expect(() => getCheck('disk')).toThrow(
      expect.objectContaining({
        code: 'UPLIFT_CHECK_UNKNOWN',
        hint: expect.stringContaining('disk-space'),
      }),
    );
  });
});
