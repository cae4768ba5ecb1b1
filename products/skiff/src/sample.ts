import {
  appendFileSync,
  existsSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { addAccount } from './accounts.ts';
import {
  getInstallationStatus,
  installRelease,
  startInstallation,
  stopInstallation,
} from './install.ts';
import { type ReleaseInfo, readReleaseInfo } from './release.ts';
import { buildReleaseTree } from './release-tree.ts';
import { insertTransfer, type Transfer } from './tracking.ts';
import { SkiffError } from './versions.ts';
import { appendXferlog, formatXferlogLine } from './xferlog.ts';

export interface SampleAccount {
  name: string;
  /** A fixed demo password, the same in every sample installation. */
  password: string;
}

export interface SampleInstallation {
  install: string;
  url: string;
  version: string;
  /** created: installed and filled now; started: existed but was stopped; reused: was running. */
  status: 'created' | 'started' | 'reused';
  accounts: SampleAccount[];
}

export const sampleAccounts: readonly SampleAccount[] = [
  { name: 'acme-payroll', password: 'demo-acme-payroll' },
  { name: 'globex-edi', password: 'demo-globex-edi' },
  { name: 'initech-reports', password: 'demo-initech-reports' },
];

/** Partner addresses from the documentation ranges (RFC 5737), as a real log would show them. */
const partners: Record<string, string[]> = {
  'acme-payroll': ['198.51.100.23'],
  'globex-edi': ['203.0.113.40', '203.0.113.41'],
  'initech-reports': ['192.0.2.17'],
};

/** A small seeded generator, so every sample has the same data shape. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function edit(file: string, change: (text: string) => string): void {
  writeFileSync(file, change(readFileSync(file, 'utf8')));
}

/** What a customer typically changes after installing: heap, ciphers, jobs. */
function customize(staging: string, install: string, release: ReleaseInfo): void {
  const conf = (f: string) => join(staging, 'conf', f);
  if (release.features.startScriptConf) {
    edit(conf('start-script.conf'), (t) =>
      t.replace(
        /^HEAP_MB=.*$/m,
        '# 2024-02-12 ops (CHG-1042): month-end payroll batches ran out of heap at 512\nHEAP_MB=1024',
      ),
    );
  }
  appendFileSync(
    conf('security.properties'),
    `# 2023-11-20 security review (SEC-311): TLS 1.2 and later only
tls.protocols=TLSv1.2,TLSv1.3
# Globex's gateway needs AES256-SHA until their upgrade (INC-2291, J. Doe)
tls.ciphers=ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA
`,
  );
  if (release.features.jobsFrom === 'crontab') {
    appendFileSync(
      conf('crontab'),
      `# nightly clean-up of uploads older than 30 days
15 2 * * * ${install}/bin/skiff-purge --days 30
# archive file tracking older than 90 days, Sundays
30 3 * * 0 ${install}/bin/skiff-archive --days 90
`,
    );
  } else {
    edit(conf('scheduler.yaml'), (t) =>
      t.replace(
        /^jobs: \[\]$/m,
        `jobs:
  - name: nightly-purge
    type: purge
    schedule: "15 2 * * *"
    days: 30
  - name: weekly-archive
    type: archive
    schedule: "30 3 * * 0"
    days: 90`,
      ),
    );
  }
}

/**
 * Several weeks of transfer history ending an hour before `now`: nightly EDI batches, payroll
 * during office hours with a month-end peak, a Monday-morning report run, quiet weekends, and a
 * few failed transfers, so the traffic has the low-traffic windows a real log has.
 */
function historyFor(now: number, weeks: number): { t: Omit<Transfer, 'id'>; host: string }[] {
  const rnd = random(5301);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const out: { t: Omit<Transfer, 'id'>; host: string }[] = [];
  const add = (
    account: string,
    day: Date,
    hour: number,
    path: string,
    direction: Transfer['direction'],
  ) => {
    const start = new Date(day);
    start.setHours(hour, Math.floor(rnd() * 60), Math.floor(rnd() * 60), 0);
    if (start.getTime() > now - 3_600_000) return;
    const bytes = Math.round(2048 * 2 ** (rnd() * 13));
    const seconds = 0.2 + bytes / (2_000_000 + rnd() * 18_000_000);
    const failed = rnd() < 0.03;
    out.push({
      t: {
        account,
        path,
        bytes: failed ? Math.floor(bytes * rnd()) : bytes,
        sha256: failed ? '' : createDigest(rnd),
        direction,
        status: failed ? 'failed' : 'completed',
        start: start.getTime(),
        end: start.getTime() + Math.round(seconds * 1000),
      },
      host: pick(partners[account] ?? ['127.0.0.1']),
    });
  };
  const first = new Date(now - weeks * 7 * 86_400_000);
  first.setHours(0, 0, 0, 0);
  for (let day = new Date(first); day.getTime() <= now; day.setDate(day.getDate() + 1)) {
    const stamp = day.toISOString().slice(0, 10);
    const weekend = day.getDay() === 0 || day.getDay() === 6;
    for (let i = 0; i < 3 + Math.floor(rnd() * 3); i++) {
      add('globex-edi', day, 1 + Math.floor(rnd() * 2), `/inbound/ORDERS_${stamp}_${i}.edi`, 'in');
    }
    add('globex-edi', day, 2, `/outbound/INVOIC_${stamp}.edi`, 'out');
    if (!weekend) {
      const payroll = day.getDate() >= 25 ? 6 : 2;
      for (let i = 0; i < payroll + Math.floor(rnd() * 2); i++) {
        add(
          'acme-payroll',
          day,
          9 + Math.floor(rnd() * 8),
          `/payroll/${stamp.slice(0, 7)}/batch-${day.getDate()}-${i}.csv`,
          'in',
        );
      }
      if (rnd() < 0.5)
        add(
          'acme-payroll',
          day,
          16,
          `/payroll/${stamp.slice(0, 7)}/confirmation-${day.getDate()}.pdf`,
          'out',
        );
      add(
        'initech-reports',
        day,
        13 + Math.floor(rnd() * 4),
        `/exports/ledger-${stamp}.csv`,
        'out',
      );
    }
    if (day.getDay() === 1) {
      for (let i = 0; i < 5; i++)
        add(
          'initech-reports',
          day,
          7 + Math.floor(rnd() * 2),
          `/reports/tps-weekly-${stamp}-${i}.xlsx`,
          'in',
        );
    }
  }
  return out.sort((a, b) => a.t.end - b.t.end);
}

function createDigest(rnd: () => number): string {
  let hex = '';
  while (hex.length < 64)
    hex += Math.floor(rnd() * 2 ** 32)
      .toString(16)
      .padStart(8, '0');
  return hex;
}

function backfill(staging: string, release: ReleaseInfo, now: number): number {
  const history = historyFor(now, 6);
  const db = new Database(join(staging, 'var/db/skiff.db'));
  try {
    db.transaction(() => {
      for (const { t } of history) insertTransfer(db, release.features.trackingTable, t);
    })();
  } finally {
    db.close();
  }
  appendXferlog(
    join(staging, 'var/log/xferlog'),
    history.map(({ t, host }) => formatXferlogLine({ ...t, id: '' }, host)),
  );
  return history.length;
}

/** Files the accounts upload through the running server: CSV, EDIFACT and binary documents. */
function liveFiles(): { account: SampleAccount; path: string; body: Buffer }[] {
  const rnd = random(42);
  const files: { account: SampleAccount; path: string; body: Buffer }[] = [];
  const [acme, globex, initech] = sampleAccounts as [SampleAccount, SampleAccount, SampleAccount];
  for (let i = 1; i <= 10; i++) {
    const rows = Array.from(
      { length: 40 + Math.floor(rnd() * 400) },
      (_, r) =>
        `${1000 + r};EMP-${String(r).padStart(5, '0')};${(2000 + rnd() * 6000).toFixed(2)};EUR`,
    );
    files.push({
      account: acme,
      path: `/payroll/current/payslips-${i}.csv`,
      body: Buffer.from(`id;employee;net;currency\n${rows.join('\n')}\n`),
    });
    const segments = Array.from(
      { length: 20 + Math.floor(rnd() * 200) },
      (_, s) => `LIN+${s + 1}++${Math.floor(rnd() * 1e8)}:EN'QTY+21:${1 + Math.floor(rnd() * 90)}'`,
    );
    files.push({
      account: globex,
      path: `/inbound/ORDERS_live_${i}.edi`,
      body: Buffer.from(
        `UNH+${i}+ORDERS:D:96A:UN'${segments.join('')}UNT+${segments.length + 2}+${i}'`,
      ),
    });
    const binary = Buffer.alloc(4096 + Math.floor(rnd() * 120_000));
    for (let b = 0; b < binary.length; b++) binary[b] = Math.floor(rnd() * 256);
    files.push({ account: initech, path: `/reports/tps-${i}.xlsx`, body: binary });
  }
  return files;
}

function upload(url: string, account: SampleAccount, path: string, body: Buffer): Promise<number> {
  const auth = Buffer.from(`${account.name}:${account.password}`).toString('base64');
  return new Promise((done, fail) => {
    const req = request(
      `${url}/files${path}`,
      { method: 'PUT', headers: { authorization: `Basic ${auth}` } },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

async function uploadLiveFiles(url: string): Promise<void> {
  const files = liveFiles();
  // Four at a time, like a few partners uploading at once.
  for (let i = 0; i < files.length; i += 4) {
    const batch = files.slice(i, i + 4);
    const codes = await Promise.all(batch.map((f) => upload(url, f.account, f.path, f.body)));
    const bad = codes.findIndex((c) => c !== 201);
    if (bad >= 0)
      throw new Error(`uploading ${batch[bad]?.path} to the sample server answered ${codes[bad]}`);
  }
}

export interface SampleOptions {
  /** The working folder; the installation is `<dir>/install`, release trees go to `<dir>/releases`. */
  dir: string;
  /** The version to install when there is no sample yet. */
  version?: string;
}

/**
 * An installation of an older skiff version with realistic content, running. Creates it on the
 * first call; later calls reuse it as it is, starting it if it was stopped. A run interrupted
 * while the installation was being filled leaves no `<dir>/install`, so the next call starts over.
 */
export async function ensureSampleInstallation(opts: SampleOptions): Promise<SampleInstallation> {
  const dir = resolve(opts.dir);
  const install = join(dir, 'install');
  const accounts = sampleAccounts.map((a) => ({ ...a }));
  const status = await getInstallationStatus(install);
  if (status.installed && status.version) {
    if (status.healthy && status.url) {
      return { install, url: status.url, version: status.version, status: 'reused', accounts };
    }
    // A server process that runs but does not answer is restarted, not trusted.
    if (status.pid !== undefined) await stopInstallation(install);
    const { url } = await startInstallation(install);
    return { install, url, version: status.version, status: 'started', accounts };
  }
  if (existsSync(install)) {
    throw new SkiffError(
      'SKIFF_NOT_EMPTY',
      `${install} exists but is not a skiff installation (no version file); move it away or choose another folder`,
    );
  }

  const version = opts.version ?? '5.3.0 Patch 1';
  const { tree } = buildReleaseTree(version, join(dir, 'releases'));
  const staging = join(dir, `install.staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  try {
    installRelease(tree, staging);
    const release = readReleaseInfo(staging);
    customize(staging, install, release);
    for (const a of accounts)
      await addAccount(join(staging, 'conf/accounts.json'), a.name, a.password);
    backfill(staging, release, Date.now());
    renameSync(staging, install);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  const { url } = await startInstallation(install);
  await uploadLiveFiles(url);
  return { install, url, version, status: 'created', accounts };
}

/** Stops the sample server; `stopped` is false when there was no sample or it was not running. */
export async function stopSampleInstallation(
  opts: Pick<SampleOptions, 'dir'>,
): Promise<{ install: string; stopped: boolean }> {
  const install = join(resolve(opts.dir), 'install');
  const status = await getInstallationStatus(install);
  if (!status.installed) return { install, stopped: false };
  await stopInstallation(install);
  return { install, stopped: status.pid !== undefined };
}
