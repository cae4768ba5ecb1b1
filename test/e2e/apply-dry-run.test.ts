import { spawnSync } from 'node:child_process';
import { appendFile, cp, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import {
  type ApplyFixture,
  prepareApplyFixture,
  runtimeState,
  stateDir,
  type UpliftRun,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.5 GA';
const packInputs = join(repoRoot, 'profiles/skiff/packs');

interface Hop {
  from: string;
  to: string;
  merges: { path: string; outcome: string; notes: string[] }[];
  conflicts?: { path: string }[];
}

/** What a run says of its hops, comparable between the dry run and the real run. */
const hopsOf = (hops: Hop[]) =>
  hops.map((h) => ({
    from: h.from,
    to: h.to,
    merges: h.merges.map((m) => ({ path: m.path, outcome: m.outcome, notes: m.notes })),
  }));

/**
 * `uplift apply --dry-run` predicts the real run (issue 11, part 3): on copies of one sample
 * installation along its whole path (5.3.0 Patch 1 → 5.5 GA, five hops), the dry run and the
 * real run, both without `--base-tree` (the merge bases come from the installation's recorded
 * release: skiff's profile makes the installed version's release tree), give the same hops, the
 * same merges and the same conflicts; also for a customer edit the vendor changes too at the
 * third hop, which both must stop at.
 */
describe('apply --dry-run predicts the real run', () => {
  let fx: ApplyFixture;

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-apply-dry-', from, to, {
      '5.3.3 GA': join(packInputs, '5.3.3-GA/migrations.yaml'),
      '5.5 GA': join(packInputs, '5.5-GA/migrations.yaml'),
    });
  }, 240_000);

  afterAll(async () => {
    await fx?.dispose();
  });

  /** A stopped copy of the sample installation, in a folder (and state folder) of its own. */
  async function copyOfSample(): Promise<string> {
    const install = join(await mkdtemp(join(fx.root, 'case-')), 'install');
    const r = spawnSync('cp', ['-a', fx.template, install]);
    if (r.status !== 0) throw new Error(`cp -a failed: ${r.stderr}`);
    return install;
  }

  /** `uplift apply` without `--base-tree`: what an operator types after `uplift sample`. */
  const apply = (install: string, ...more: string[]): Promise<UpliftRun> =>
    upliftAsync([
      'apply',
      '--install',
      install,
      '--to',
      to,
      '--packs',
      fx.packs,
      '--trust',
      fx.trust,
      '--yes',
      '--json',
      ...more,
    ]);

  it('the whole path: the same hops and merges, no conflict, and the customised security.properties merged without --base-tree', async () => {
    const [dry, real] = [await copyOfSample(), await copyOfSample()];
    const before = (await hashTree(dry, { ignore: runtimeState })).hash;

    const [d, r] = await Promise.all([apply(dry, '--dry-run'), apply(real)]);

    expect(d.code, `${d.stdout}${d.stderr}`).toBe(0);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    const predicted = JSON.parse(d.stdout) as { hops: Hop[] };
    const done = JSON.parse(r.stdout) as { hops: Hop[] };
    expect(predicted.hops.map((h) => `${h.from} → ${h.to}`)).toEqual(
      fx.hops.map((h) => `${h.from} → ${h.to}`),
    );
    expect(predicted.hops.flatMap((h) => h.conflicts ?? [])).toEqual([]);
    expect(hopsOf(predicted.hops)).toEqual(hopsOf(done.hops));
    const security = await readFile(join(real, 'conf/security.properties'), 'utf8');
    expect(security).toContain('tls.protocols=TLSv1.2,TLSv1.3\n');
    expect(security).toContain(
      'tls.ciphers=ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA\n',
    );
    expect((await hashTree(dry, { ignore: runtimeState })).hash).toBe(before);
  }, 600_000);

  it('a customer edit the vendor changes too at the third hop: both stop there with the same conflict', async () => {
    const [dry, real] = [await copyOfSample(), await copyOfSample()];
    for (const i of [dry, real])
      await appendFile(join(i, 'conf/start-script.conf'), 'SCHEDULER_HEAP_MB=128\n');

    const [d, r] = await Promise.all([apply(dry, '--dry-run'), apply(real)]);

    expect(d.code, `${d.stdout}${d.stderr}`).toBe(3);
    // The real run stages every hop before the first goes in: the same refusal, nothing changed.
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(3);
    const predicted = JSON.parse(d.stdout) as { hops: Hop[] };
    expect(predicted.hops.map((h) => h.to)).toEqual(['5.3.0 Patch 2', '5.3.3 GA', '5.4 GA']);
    expect(predicted.hops.map((h) => (h.conflicts ?? []).map((c) => c.path))).toEqual([
      [],
      [],
      ['conf/start-script.conf'],
    ]);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('UPLIFT_APPLY_CONFLICT');
    expect(error.message).toContain('hop 5.3.3 GA → 5.4 GA');
    expect(error.message).toContain('conf/start-script.conf');
    expect(await readFile(join(real, 'version'), 'utf8')).toBe(`${from}\n`);
    expect((await hashTree(real, { ignore: runtimeState })).hash).toBe(
      (await hashTree(dry, { ignore: runtimeState })).hash,
    );
    const history = JSON.parse(
      (await upliftAsync(['history', '--install', real, '--json'])).stdout,
    );
    expect(history.runs.filter((run: { from: string }) => run.from === from)).toEqual([]);
  }, 600_000);

  it('without a merge base (a profile that cannot make release trees): the same conflict, a hint naming --base-tree, a proposed file that keeps the customer’s keys', async () => {
    const profile = join(await mkdtemp(join(fx.root, 'profile-')), 'skiff');
    await cp(join(repoRoot, 'profiles/skiff'), profile, { recursive: true });
    await symlink(join(repoRoot, 'node_modules'), join(profile, 'node_modules'));
    const file = join(profile, 'profile.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.deleteIn(['apply', 'releaseTree']);
    await writeFile(file, doc.toString());
    const [dry, real] = [await copyOfSample(), await copyOfSample()];

    const [d, r] = await Promise.all([
      apply(dry, '--dry-run', '--profile', profile),
      apply(real, '--profile', profile),
    ]);

    expect(d.code, `${d.stdout}${d.stderr}`).toBe(3);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(3);
    const predicted = JSON.parse(d.stdout) as { hops: Hop[] };
    expect(predicted.hops).toHaveLength(1);
    expect(predicted.hops[0]?.conflicts?.map((c) => c.path)).toContain('conf/security.properties');
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('UPLIFT_APPLY_CONFLICT');
    expect(error.message).toContain('conf/security.properties');
    expect(error.hint).toContain('--base-tree');
    expect(error.hint).toContain('release-tree make');
    const conflicts = join(stateDir(real), 'conflicts');
    const [runId] = await readdir(conflicts);
    const proposed = await readFile(
      join(conflicts, runId as string, 'conf/security.properties.proposed'),
      'utf8',
    );
    expect(proposed).toContain('tls.protocols=TLSv1.2,TLSv1.3\n');
    expect(proposed).toContain('AES256-SHA');
  }, 600_000);
});
