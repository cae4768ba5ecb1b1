import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, type ExpectStatic, expect, it } from 'vitest';
import { hopSteps } from '../../src/apply/index.ts';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  runtimeState,
  startFreshInstall,
  stateDir,
  tableRows,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

/**
 * Every crash point of a hop: each step's begin and done, between the two renames of the switch,
 * and in the middle of staging's writes (half of them queued, none flushed).
 */
const crashPoints = [
  'run:begin',
  ...hopSteps.flatMap((s) => [`${s}:begin`, `${s}:done`]),
  'stage:writing',
  'switch:between',
];

/**
 * kill -9 at every step of a real skiff hop with data (accounts, uploads, tracking rows, customer
 * edits), then `uplift resume`, itself killed once (during its rollback, or as it starts), then
 * `uplift resume` again. Each time the installation must be entirely the old version or entirely
 * the new one (tree hash), the service must answer with that version, and every uploaded file and
 * tracking row must still be there.
 */
describe.concurrent('crash at every step of uplift apply, resume, crash again, resume', () => {
  let fx: ApplyFixture;
  let oldTree: string;
  let newTree: string;
  let rows: Record<string, unknown[]>;
  let dataHash: string;
  // Cases run side by side (each waits on processes most of the time), a few at a time.
  const slot = limiter(2);

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-apply-crash-', from, to);
    oldTree = (await hashTree(fx.template, { ignore: runtimeState })).hash;
    rows = tableRows(join(fx.template, 'var/db/skiff.db'));
    dataHash = (await hashTree(join(fx.template, 'data'))).hash;
    // The reference new tree: the same installation upgraded without a crash.
    const install = await startFreshInstall(fx);
    try {
      const r = await upliftAsync(applyArgs(fx, install));
      expect(r.code, r.stderr).toBe(0);
      newTree = (await hashTree(install, { ignore: runtimeState })).hash;
      expect(newTree).not.toBe(oldTree);
    } finally {
      await fx.skiff.stopInstallation(install).catch(() => undefined);
    }
  }, 240_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  async function expectWhole(expect: ExpectStatic, install: string): Promise<string> {
    const tree = (await hashTree(install, { ignore: runtimeState })).hash;
    expect([oldTree, newTree]).toContain(tree);
    const version = tree === oldTree ? from : to;
    expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(rows);
    expect((await hashTree(join(install, 'data'))).hash).toBe(dataHash);
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version, healthy: true });
    return version;
  }

  it.for(crashPoints)('kill -9 at %s', { timeout: 180_000 }, (point, { expect }) =>
    slot(async () => {
      const install = await startFreshInstall(fx);
      try {
        const crashed = await upliftAsync(applyArgs(fx, install), { crashAt: point });

        expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
        const status = await upliftAsync(['status', '--install', install, '--json']);
        expect(status.code, `${status.stdout}${status.stderr}`).toBe(5);
        const would = JSON.parse(status.stdout).run.resumeWould;
        expect(would).toBe(expectedAction(point));
        // The second fault: resume killed during its rollback, or as it starts.
        const second = would === 'roll-back' ? 'rollback:between' : 'resume:begin';
        const again = await upliftAsync(['resume', '--install', install, '--json'], {
          crashAt: second,
        });
        if (again.signal !== 'SIGKILL') expect(again.code, again.stderr).toBe(0);

        const resumed = await upliftAsync(['resume', '--install', install, '--json']);

        expect(resumed.code, resumed.stderr).toBe(0);
        const version = await expectWhole(expect, install);
        // resume finishes the run (it recorded its plan, packs and trust): always the target.
        expect(version).toBe(to);
        // What is left of the run for `uplift apply` to carry on with, as the resume that
        // finished the run says.
        const finished = again.signal === 'SIGKILL' ? resumed : again;
        expect(JSON.parse(finished.stdout)).toMatchObject({
          version,
          runTo: to,
          notRun: [],
        });
        // Nothing is left to resume: no journal, no lock, the run is the history's last line.
        const state = stateDir(install);
        expect(existsSync(join(state, 'journal'))).toBe(false);
        expect(existsSync(join(state, 'lock'))).toBe(false);
        const history = readFileSync(join(state, 'history.jsonl'), 'utf8').trim().split('\n');
        expect(JSON.parse(history.at(-1) as string)).toMatchObject({
          resumed: true,
          to: version,
        });
      } finally {
        await fx.skiff.stopInstallation(install).catch(() => undefined);
        await rm(dirname(install), { recursive: true, force: true, maxRetries: 3 });
      }
    }),
  );
});

/** What `uplift resume` must do after a crash at `point` (docs/apply.md, "Resume"). */
function expectedAction(point: string): string {
  const step = point.split(':')[0] as string;
  if (step === 'run' || ['verify', 'stage', 'backup'].includes(step)) return 'clean-up-staging';
  if (point === 'commit:begin') return 'finish-commit';
  if (point === 'commit:done') return 'finish-run';
  return 'roll-back';
}

/** Runs at most `n` of the given functions at once. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((res) => waiting.push(res));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
