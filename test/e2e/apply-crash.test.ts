import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hopSteps } from '../../src/apply/index.ts';
import {
  type ApplyFixture,
  copyInstall,
  prepareApplyFixture,
  runtimeState,
  tableRows,
  uplift,
} from '../util/apply-skiff.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

/** Every crash point of a hop: each step's begin and done, and between the two renames of the switch. */
const crashPoints = [
  'run:begin',
  ...hopSteps.flatMap((s) => [`${s}:begin`, `${s}:done`]),
  'switch:between',
];

/**
 * kill -9 at every step of a real skiff hop with data (accounts, uploads, tracking rows, customer
 * edits), then `uplift resume`, itself killed once (during its rollback, or as it starts), then
 * `uplift resume` again. Each time the installation must be entirely the old version or entirely
 * the new one (tree hash), the service must answer with that version, and every uploaded file and
 * tracking row must still be there.
 */
describe('crash at every step of uplift apply, resume, crash again, resume', () => {
  let fx: ApplyFixture;
  let n = 0;
  const running: string[] = [];
  let oldTree: string;
  let newTree: string;
  let rows: Record<string, unknown[]>;
  let dataHash: string;

  beforeAll(async () => {
    const root = await mkdtemp(join(tmpdir(), 'uplift-apply-crash-'));
    fx = await prepareApplyFixture(root, from, to);
    oldTree = (await hashTree(fx.template, { ignore: runtimeState })).hash;
    rows = tableRows(join(fx.template, 'var/db/skiff.db'));
    dataHash = (await hashTree(join(fx.template, 'data'))).hash;
    // The reference new tree: the same installation upgraded without a crash.
    const install = await fresh();
    const r = uplift(args(install));
    expect(r.code, r.stderr).toBe(0);
    newTree = (await hashTree(install, { ignore: runtimeState })).hash;
    expect(newTree).not.toBe(oldTree);
  }, 240_000);

  afterEach(async () => {
    for (const i of running.splice(0)) await fx.skiff.stopInstallation(i).catch(() => undefined);
  });

  afterAll(async () => {
    for (const i of running.splice(0)) await fx.skiff.stopInstallation(i).catch(() => undefined);
    if (fx) await rm(fx.root, { recursive: true, force: true, maxRetries: 5 });
  });

  async function fresh(): Promise<string> {
    const install = copyInstall(fx.template, join(fx.root, `case-${++n}`));
    await fx.skiff.startInstallation(install);
    running.push(install);
    return install;
  }

  function args(install: string): string[] {
    return [
      'apply',
      '--install',
      install,
      '--to',
      to,
      '--packs',
      fx.packs,
      '--trust',
      fx.trust,
      '--base-tree',
      join(fx.releases, from.replace(/ /g, '-')),
      '--yes',
      '--json',
    ];
  }

  async function expectWhole(install: string): Promise<string> {
    const tree = (await hashTree(install, { ignore: runtimeState })).hash;
    expect([oldTree, newTree]).toContain(tree);
    const version = tree === oldTree ? from : to;
    expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(rows);
    expect((await hashTree(join(install, 'data'))).hash).toBe(dataHash);
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version, healthy: true });
    return version;
  }

  it.each(crashPoints)(
    'kill -9 at %s',
    async (point) => {
      const install = await fresh();

      const crashed = uplift(args(install), { crashAt: point });

      expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
      const status = uplift(['status', '--install', install, '--json']);
      expect(status.code).toBe(5);
      const would = JSON.parse(status.stdout).run.resumeWould;
      // The second fault: resume killed during its rollback, or as it starts.
      const second = would === 'roll-back' ? 'rollback:between' : 'resume:begin';
      const again = uplift(['resume', '--install', install, '--json'], { crashAt: second });
      if (again.signal !== 'SIGKILL') expect(again.code, again.stderr).toBe(0);

      const resumed = uplift(['resume', '--install', install, '--json']);

      expect(resumed.code, resumed.stderr).toBe(0);
      const version = await expectWhole(install);
      expect(version).toBe(would === 'finish-commit' || would === 'finish-run' ? to : from);
      expect(uplift(['status', '--install', install, '--json']).code).toBe(0);
      // Idempotent: nothing is left to resume.
      expect(JSON.parse(uplift(['resume', '--install', install, '--json']).stdout).action).toBe(
        'none',
      );
    },
    120_000,
  );
});
