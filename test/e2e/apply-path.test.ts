import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { featuresFor, sampleAccounts } from '../../products/skiff/src/index.ts';
import { loadJobs, parseCrontab } from '../../products/skiff/src/scheduler.ts';
import { listTransfers, type Transfer } from '../../products/skiff/src/tracking.ts';
import {
  type ApplyFixture,
  applyArgs,
  prepareApplyFixture,
  startFreshInstall,
  stateDir,
  upliftAsync,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.5 GA';
const packInputs = join(repoRoot, 'profiles/skiff/packs');

/**
 * The sample installation (accounts, live uploads, weeks of tracking rows in the pre-5.3.3
 * `transfers` table, a customer's heap, TLS and cron edits) upgraded along its whole path to the
 * newest version in one `uplift apply`, with packs built by `uplift pack build` (the 5.3.3 GA
 * database migration and the 5.5 GA configuration migration from profiles/skiff/packs) and
 * verified with --trust; then `uplift rollback` to the version before.
 */
describe('the sample installation along its whole path to 5.5 GA', () => {
  let fx: ApplyFixture;
  let install: string;
  let uploads: { account: string; path: string; bytes: Buffer }[];
  let oldTransfers: Transfer[];
  let hops: { from: string; to: string }[];
  const passwords = new Map<string, string>();

  beforeAll(async () => {
    fx = await prepareApplyFixture(
      'uplift-apply-path-',
      from,
      to,
      {
        '5.3.3 GA': join(packInputs, '5.3.3-GA/migrations.yaml'),
        '5.5 GA': join(packInputs, '5.5-GA/migrations.yaml'),
      },
      { packsWith: 'cli' },
    );
    for (const a of sampleAccounts) passwords.set(a.name, a.password);
    // What the customer has before the upgrade: every uploaded file and every tracking row.
    const data = await hashTree(join(fx.template, 'data'));
    uploads = [];
    for (const r of data.records.filter((x) => x.type === 'file')) {
      const [account, ...rest] = r.path.split('/');
      uploads.push({
        account: account as string,
        path: `/${rest.join('/')}`,
        bytes: await readFile(join(fx.template, 'data', r.path)),
      });
    }
    const db = new Database(join(fx.template, 'var/db/skiff.db'), { readonly: true });
    oldTransfers = listTransfers(db, 'transfers');
    db.close();
    install = await startFreshInstall(fx);
  }, 240_000);

  afterAll(async () => {
    if (install) await fx.skiff.stopInstallation(install).catch(() => undefined);
    await fx?.dispose();
  });

  it('the fixture holds what the upgrade must keep', () => {
    expect(uploads.length).toBeGreaterThanOrEqual(30);
    expect(oldTransfers.length).toBeGreaterThan(100);
    const crontab = readFileSync(join(fx.template, 'conf/crontab'), 'utf8');
    expect(parseCrontab(crontab).jobs.map((j) => j.type)).toEqual(['purge', 'archive']);
  });

  it('upgrades hop by hop to 5.5 GA: edits kept, tracking rows migrated, cron jobs in the scheduler, every file downloads byte-identical', async () => {
    const r = await upliftAsync(applyArgs(fx, install));

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    const result = JSON.parse(r.stdout);
    hops = result.hops.map((h: { from: string; to: string }) => ({ from: h.from, to: h.to }));
    expect(result).toMatchObject({ from, to, outcome: 'committed' });
    // The catalog's path: every hop of the plan, ending at the newest version.
    expect(hops).toEqual(fx.hops);
    expect(hops.length).toBeGreaterThanOrEqual(5);
    expect(hops.map((h) => h.to)).toContain('5.3.3 GA');
    expect(hops.at(-1)).toEqual({ from: '5.4 Patch 2', to });
    for (const h of result.hops) expect(h).toMatchObject({ outcome: 'committed', kind: 'delta' });
    // Backups: the installation before the run (first hop) and before the last hop are kept.
    const last = hops.length - 1;
    const backupsDir = join(stateDir(install), 'backups');
    expect((await readdir(backupsDir)).sort()).toEqual(
      [0, last].flatMap((h) => [
        `${result.runId}-${h}.tar.gz`,
        `${result.runId}-${h}.tar.gz.sha256`,
      ]),
    );
    expect(result.prunedBackups).toEqual(
      Array.from({ length: last - 1 }, (_, h) =>
        join(backupsDir, `${result.runId}-${h + 1}.tar.gz`),
      ),
    );
    const migrated = result.hops.find((h: { to: string }) => h.to === '5.3.3 GA').migrations;
    expect(JSON.stringify(migrated)).toContain('transfers-to-file-tracking');
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${to}\n`);
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version: to, healthy: true });

    // Customer edits, carried through six three-way merges.
    const startConf = await readFile(join(install, 'conf/start-script.conf'), 'utf8');
    expect(startConf).toMatch(/^# 2024-02-12 ops \(CHG-1042\).*\nHEAP_MB=1024$/m);
    const security = await readFile(join(install, 'conf/security.properties'), 'utf8');
    expect(security).toContain('tls.protocols=TLSv1.2,TLSv1.3\n');
    expect(security).toContain(
      'tls.ciphers=ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA\n',
    );
    expect(security).toContain('(INC-2291, J. Doe)');

    // 5.3.3 GA: every `transfers` row is a `file_tracking` row, and the old table is gone.
    const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    const tracked = listTransfers(db, 'file_tracking');
    db.close();
    expect(tables.map((t) => (t as { name: string }).name)).not.toContain('transfers');
    const byId = new Map(tracked.map((t) => [t.id, t]));
    for (const t of oldTransfers)
      expect(byId.get(`transfers-${t.id}`), `transfer ${t.id}`).toEqual({
        ...t,
        id: `transfers-${t.id}`,
      });
    expect(tracked).toHaveLength(oldTransfers.length);
    // ... and skiff's own API serves them.
    for (const account of passwords.keys()) {
      const res = await http(st.url as string, account, '/transfers?limit=100000');
      expect(res.status).toBe(200);
      const served = JSON.parse(res.body.toString()).transfers as Transfer[];
      const mine = oldTransfers.filter((t) => t.account === account);
      expect(served.map((t) => t.id).sort()).toEqual(mine.map((t) => `transfers-${t.id}`).sort());
    }

    // 5.5 GA: the cron jobs are jobs of conf/scheduler.yaml, which the 5.5 scheduler reads.
    const scheduler = loadJobs(install, featuresFor(to), parse);
    expect(scheduler).toMatchObject({ source: 'conf/scheduler.yaml', warnings: [] });
    expect(scheduler.jobs.map((j) => [j.type, j.schedule, j.days])).toEqual([
      ['purge', '15 2 * * *', 30],
      ['archive', '30 3 * * 0', 90],
    ]);
    const schedulerPid = Number(
      await readFile(join(install, 'var/run/scheduler.pid'), 'utf8').catch(() => 'NaN'),
    );
    expect(alive(schedulerPid), 'the 5.5 scheduler process runs').toBe(true);
    const started = `skiff ${to} scheduler started (pid ${schedulerPid})`;
    let schedulerLog = '';
    for (let i = 0; i < 100 && !schedulerLog.includes(started); i++) {
      await new Promise((res) => setTimeout(res, 100));
      schedulerLog = await readFile(join(install, 'var/log/scheduler.log'), 'utf8');
    }
    expect(schedulerLog).toContain(started);

    // Every file uploaded before the upgrade downloads byte for byte from the 5.5 server.
    for (const u of uploads) {
      const res = await http(st.url as string, u.account, `/files${u.path}`);
      expect(res.status, u.path).toBe(200);
      expect(res.body.equals(u.bytes), u.path).toBe(true);
    }

    const history = await upliftAsync(['history', '--install', install, '--json']);
    expect(history.code, history.stderr).toBe(0);
    const runs = JSON.parse(history.stdout).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ kind: 'apply', outcome: 'committed', from, to });
    expect(runs[0].hops.map((h: { to: string; outcome: string }) => [h.to, h.outcome])).toEqual(
      hops.map((h) => [h.to, 'committed']),
    );
    // History names every hop's backup, and says which ones pruning removed.
    expect(runs[0].hops.map((h: { backupKept: boolean }) => h.backupKept)).toEqual(
      hops.map((_, h) => h === 0 || h === last),
    );
    const text = await upliftAsync(['history', '--install', install]);
    expect(text.stdout.match(/backup pruned/g)).toHaveLength(last - 1);
  }, 300_000);

  it('uplift rollback returns 5.4 Patch 2 with its data; the files still download', async () => {
    expect(hops, 'the upgrade ran').toBeDefined();

    const r = await upliftAsync(['rollback', '--install', install, '--json']);

    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version: '5.4 Patch 2' });
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version: '5.4 Patch 2', healthy: true });
    expect(await readFile(join(install, 'version'), 'utf8')).toBe('5.4 Patch 2\n');
    const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
    const tracked = new Set(listTransfers(db, 'file_tracking').map((t) => t.id));
    db.close();
    for (const t of oldTransfers) expect(tracked.has(`transfers-${t.id}`)).toBe(true);
    // 5.4 reads its jobs from conf/crontab again, which the rollback brought back as it was.
    const crontab = parseCrontab(await readFile(join(install, 'conf/crontab'), 'utf8'));
    expect(crontab.jobs.map((j) => [j.type, j.schedule, j.days])).toEqual([
      ['purge', '15 2 * * *', 30],
      ['archive', '30 3 * * 0', 90],
    ]);
    expect(await readFile(join(install, 'conf/start-script.conf'), 'utf8')).toContain(
      'HEAP_MB=1024',
    );
    for (const u of uploads) {
      const res = await http(st.url as string, u.account, `/files${u.path}`);
      expect(res.status, u.path).toBe(200);
      expect(res.body.equals(u.bytes), u.path).toBe(true);
    }
    const history = JSON.parse(
      (await upliftAsync(['history', '--install', install, '--json'])).stdout,
    );
    expect(history.runs.at(-1)).toMatchObject({
      kind: 'rollback',
      outcome: 'rolled-back',
      from: to,
      to: '5.4 Patch 2',
    });
  }, 120_000);

  function http(
    url: string,
    account: string,
    path: string,
  ): Promise<{ status: number; body: Buffer }> {
    const auth = Buffer.from(`${account}:${passwords.get(account)}`).toString('base64');
    return new Promise((done, fail) => {
      const req = request(
        `${url}${path}`,
        { headers: { authorization: `Basic ${auth}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', fail);
      req.end();
    });
  }
});

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
