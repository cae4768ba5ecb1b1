import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildReleaseTree, featuresFor, type ReleaseTree } from '../../products/skiff/src/index.ts';
import { parseCrontab, parseSchedulerConfig } from '../../products/skiff/src/scheduler.ts';
import {
  insertTransfer,
  listTransfers,
  trackingSchema,
} from '../../products/skiff/src/tracking.ts';
import { buildPack, verifyPack } from '../../src/pack/index.ts';
import { generateKeyPair, trustOf } from '../../src/signing/index.ts';
import { repoRoot, runCliInProcess } from '../util/run-cli.ts';

/**
 * Packs for every hop of skiff's upgrade path, built from the release trees products/skiff makes,
 * full and delta, each verified against an installation at the hop's from version; the hops that
 * need more than files carry profiles/skiff/packs/ migrations, which are run here on real data.
 */
const from = '5.2.1 SP8';
const platform = 'linux-x86-64';
const key = generateKeyPair();
const trust = trustOf([key.publicKey]);
const packInputs = join(repoRoot, 'profiles/skiff/packs');
const migrationsFor: Record<string, string> = {
  '5.3.3 GA': join(packInputs, '5.3.3-GA/migrations.yaml'),
  '5.5 GA': join(packInputs, '5.5-GA/migrations.yaml'),
};

let work: string;
let hops: [string, string][];
const trees = new Map<string, ReleaseTree>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'uplift-pack-skiff-'));
  const r = await runCliInProcess(['paths', '--profile', 'skiff', '--from', from, '--json']);
  const targets = (JSON.parse(r.stdout) as { targets: { to: string; steps: string[] }[] }).targets;
  const steps = targets.find((t) => t.to === '5.5 GA')?.steps ?? [];
  const versions = [from, ...steps];
  hops = steps.map((to, i) => [versions[i] as string, to]);
  for (const v of versions) trees.set(v, buildReleaseTree(v, join(work, 'releases')));
});

/**
 * The pack of the hop `a` to `b` from their release trees (delta unless told), signed with
 * the test key, carrying the hop's migrations.
 */
function buildHop(a: string, b: string, out: string, delta = true) {
  return buildPack({
    fromTree: (trees.get(a) as ReleaseTree).dir,
    toTree: (trees.get(b) as ReleaseTree).dir,
    platform,
    delta,
    key: key.privateKey,
    out,
    migrations: migrationsFor[b],
    fileSha256: true,
  });
}

describe("packs for skiff's upgrade path", () => {
  it('the path is the catalog one, 7 hops to 5.5 GA', () => {
    expect(hops.map(([, to]) => to)).toEqual([
      '5.3.0 GA',
      '5.3.0 Patch 2',
      '5.3.3 GA',
      '5.3.6 GA',
      '5.4 GA',
      '5.4 Patch 2',
      '5.5 GA',
    ]);
  });

  it('builds a full and a delta pack for every hop, and each verifies for its from version', async () => {
    for (const [a, b] of hops) {
      for (const delta of [false, true]) {
        const out = join(work, `${b}-${delta ? 'delta' : 'full'}.upk`.replace(/ /g, '-'));
        const built = await buildHop(a, b, out, delta);
        const stage = `${out}.stage`;

        const r = await verifyPack(out, {
          trust,
          install: { product: 'skiff', version: a, platform },
          stageInto: stage,
        });

        expect(r.sha256).toBe(built.sha256);
        const m = r.manifest;
        expect([m.from.version, m.to, m.kind]).toEqual([a, b, delta ? 'delta' : 'full']);
        const toFiles = (trees.get(b) as ReleaseTree).manifest.files;
        const staged = m.files.filter((f) => f.action !== 'delete');
        if (!delta) expect(staged.length).toBe(toFiles.length);
        else expect(staged.length).toBeLessThan(toFiles.length);
        for (const f of staged)
          expect(readFileSync(join(stage, f.path))).toEqual(
            readFileSync(join((trees.get(b) as ReleaseTree).tree, f.path)),
          );
        expect(m.files.find((f) => f.path === 'version')?.action).toBe('replace');
        expect(m.migrations.database.length + m.migrations.config.length).toBe(
          migrationsFor[b] ? 1 : 0,
        );
      }
    }
  });

  it('builds byte-identical packs from the same trees', async () => {
    const [a, b] = hops[6] as [string, string];
    const build = (n: number) => buildHop(a, b, join(work, `twice-${n}.upk`));

    const one = await build(1);
    const two = await build(2);

    expect(readFileSync(two.file).equals(readFileSync(one.file))).toBe(true);
  });

  it('5.3.3 GA carries a database migration that moves every transfers row into file_tracking', async () => {
    const out = join(work, 'db.upk');
    await buildHop('5.3.0 Patch 2', '5.3.3 GA', out);
    const r = await verifyPack(out, { trust, stageInto: join(work, 'db-stage') });
    const migration = r.manifest.migrations.database[0];
    const db = new Database(join(work, 'skiff.db'));
    db.exec(trackingSchema(featuresFor('5.3.0 Patch 2')));
    const t0 = Date.UTC(2024, 4, 1, 10, 30, 15, 123);
    for (let i = 0; i < 50; i++)
      insertTransfer(db, 'transfers', {
        account: `acct${i % 7}`,
        path: `/in/report-${i}.csv`,
        bytes: 1000 * i,
        sha256: `${i}`.padStart(64, '0'),
        direction: i % 3 === 0 ? 'out' : 'in',
        status: i % 11 === 0 ? 'failed' : 'completed',
        start: t0 + i * 60_001,
        end: t0 + i * 60_001 + 987,
      });
    const before = listTransfers(db, 'transfers');

    db.transaction(() =>
      db.exec(readFileSync(join(work, 'db-stage', migration?.script.path ?? ''), 'utf8')),
    )();

    const after = listTransfers(db, 'file_tracking');
    expect(migration).toMatchObject({ engine: 'sqlite', database: 'var/db/skiff.db' });
    expect(after.map((t) => ({ ...t, id: t.id.replace('transfers-', '') }))).toEqual(before);
    expect(
      db.prepare("select count(*) n from sqlite_master where name = 'transfers'").get(),
    ).toEqual({ n: 0 });
  });

  it('5.5 GA carries a config migration that turns crontab lines into scheduler.yaml jobs', async () => {
    const out = join(work, 'cron.upk');
    await buildHop('5.4 Patch 2', '5.5 GA', out);
    const r = await verifyPack(out, { trust, stageInto: join(work, 'cron-stage') });
    const migration = r.manifest.migrations.config[0];
    const crontab = [
      '# customer jobs',
      '15 2 * * * /opt/skiff/bin/skiff-purge --days 30',
      '@weekly /opt/skiff/bin/skiff-archive --days=90',
      '*/10 * * * 1-5 skiff-archive 7',
      '0 3 * * * /usr/bin/backup-everything',
      '',
    ].join('\n');
    const old = join(work, 'old-install');
    const next = join(work, 'new-install');
    mkdirSync(join(old, 'conf'), { recursive: true });
    mkdirSync(join(next, 'conf'), { recursive: true });
    writeFileSync(join(old, 'conf/crontab'), crontab);

    const said = execFileSync(
      process.execPath,
      [join(work, 'cron-stage', migration?.script.path ?? ''), old, next],
      { encoding: 'utf8', stdio: 'pipe' },
    );

    const migrated = parseSchedulerConfig(
      parse(readFileSync(join(next, 'conf/scheduler.yaml'), 'utf8')),
    );
    const original = parseCrontab(crontab);
    const shape = (j: { type: string; schedule: string; days: number }) => [
      j.type,
      j.schedule,
      j.days,
    ];
    expect(migration).toMatchObject({
      run: 'node',
      reads: ['conf/crontab'],
      writes: ['conf/scheduler.yaml'],
    });
    expect(migrated.warnings).toEqual([]);
    expect(migrated.jobs.map(shape)).toEqual(original.jobs.map(shape));
    expect(migrated.jobs).toHaveLength(3);
    expect(said).toContain('3 job(s) carried over, 1 line(s) kept as comments');
    expect(r.manifest.files.find((f) => f.path === 'conf/crontab')?.action).toBe('delete');
  });
});
