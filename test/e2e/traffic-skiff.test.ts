import { rm } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile } from '../../src/profile/index.ts';
import {
  machineZone,
  readTrafficProfile,
  SLOTS_PER_WEEK,
  trafficSourcesOf,
} from '../../src/traffic/index.ts';
import { loadSkiff, type SkiffApi, scratchRoot } from '../util/apply-skiff.ts';

// The skiff server (a child process) and the sample's backfill (this process) write their xferlog
// in local time: Paris, so that the log holds both offsets of the zone.
process.env.TZ = 'Europe/Paris';

/** Monday 2024-01-01 00:00 UTC: slots counted from any Monday are the week's. */
const monday = Date.UTC(2024, 0, 1);
const slotOf = (ms: number) =>
  Math.floor(((((ms - monday) % 604_800_000) + 604_800_000) % 604_800_000) / 900_000);

function download(url: string, account: { name: string; password: string }, path: string) {
  const auth = Buffer.from(`${account.name}:${account.password}`).toString('base64');
  return new Promise<number>((done, fail) => {
    get(`${url}/files${path}`, { headers: { authorization: `Basic ${auth}` } }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
    }).on('error', fail);
  });
}

describe("a real skiff installation's transfer log, read through its profile's declaration", () => {
  let root: string;
  let skiff: SkiffApi;
  let install: string;

  beforeAll(async () => {
    root = await scratchRoot('uplift-traffic-skiff-');
    skiff = await loadSkiff();
    // Six weeks of history in the tracking table and xferlog, then live uploads through the server.
    const sample = await skiff.ensureSampleInstallation({ dir: root, version: '5.4 GA' });
    install = sample.install;
    const acme = sample.accounts.find((a) => a.name === 'acme-payroll');
    if (acme === undefined) throw new Error('the sample has no acme-payroll account');
    for (let i = 1; i <= 3; i++)
      expect(await download(sample.url, acme, `/payroll/current/payslips-${i}.csv`)).toBe(200);
    await skiff.stopInstallation(install);
  }, 240_000);

  afterAll(async () => {
    if (install) await skiff.stopInstallation(install).catch(() => {});
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('counts per slot exactly what the tracking table holds', async () => {
    const profile = await loadProfile('skiff');
    const sources = await trafficSourcesOf(profile, install);

    const p = await readTrafficProfile(sources);

    const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
    const rows = db
      .prepare('select account, end_ts as "end", direction from file_tracking')
      .all() as { account: string; end: number; direction: string }[];
    db.close();
    const transfers = new Array<number>(SLOTS_PER_WEEK).fill(0);
    const pairs = new Set<string>();
    const accounts = new Array<number>(SLOTS_PER_WEEK).fill(0);
    for (const r of rows) {
      // xferlog keeps whole seconds.
      const at = Math.floor(r.end / 1000) * 1000;
      const slot = slotOf(at);
      transfers[slot] = (transfers[slot] as number) + 1;
      const key = `${Math.floor(at / 900_000)} ${r.account}`;
      if (!pairs.has(key)) {
        pairs.add(key);
        accounts[slot] = (accounts[slot] as number) + 1;
      }
    }
    const ends = rows.map((r) => Math.floor(r.end / 1000) * 1000);

    expect(machineZone()).toBe('Europe/Paris');
    expect(sources.map((s) => s.file)).toEqual([join(install, 'var/log/xferlog')]);
    expect(rows.filter((r) => r.direction === 'out').length).toBeGreaterThanOrEqual(3);
    expect(p.skipped.count).toBe(0);
    expect(p.records).toBe(rows.length);
    expect(p.slots.map((s) => s.transfers)).toEqual(transfers);
    expect(p.slots.map((s) => s.accounts)).toEqual(accounts);
    expect(p.from).toBe(Math.min(...ends));
    expect(p.to).toBe(Math.max(...ends));
    // Six weeks of history: every slot is covered at least five times.
    expect(Math.min(...p.weeksCovered)).toBeGreaterThanOrEqual(5);
  });
});
