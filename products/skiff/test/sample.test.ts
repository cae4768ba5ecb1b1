import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../../test/util/run-cli.ts';
import * as skiff from '../src/index.ts';
import { parseCrontab } from '../src/scheduler.ts';
import { buildSkiff } from './build-skiff.ts';
import { call, tempDir } from './helpers.ts';

const tmp = tempDir('sample');
const dir = tmp.dir;

beforeAll(() => buildSkiff());
afterAll(async () => {
  await skiff.stopSampleInstallation({ dir });
  tmp.cleanup();
});

describe('the sample installation', () => {
  let first: skiff.SampleInstallation;

  beforeAll(async () => {
    first = await skiff.ensureSampleInstallation({ dir });
  });

  it('is created running, as skiff 5.3.0 Patch 1', async () => {
    expect(first).toMatchObject({
      status: 'created',
      version: '5.3.0 Patch 1',
      install: join(dir, 'install'),
    });
    expect(await skiff.probeHealth(first.url)).toMatchObject({
      status: 'ok',
      version: '5.3.0 Patch 1',
    });
    expect(first.accounts.map((a) => a.name)).toEqual([
      'acme-payroll',
      'globex-edi',
      'initech-reports',
    ]);
  });

  it('holds about 30 uploaded files across its accounts', async () => {
    let files = 0;
    for (const a of first.accounts) {
      const r = await call(first.url, 'GET', '/files/', { auth: [a.name, a.password] });
      files += (r.json() as { files: unknown[] }).files.length;
    }

    expect(files).toBe(30);
  });

  it('has several weeks of transfer history in transfers and in xferlog', () => {
    const db = new Database(join(first.install, 'var/db/skiff.db'), { readonly: true });
    const stats = db
      .prepare(
        'SELECT count(*) AS n, min(started) AS first, count(DISTINCT account) AS accounts FROM transfers',
      )
      .get() as { n: number; first: string; accounts: number };
    db.close();
    const xferlog = readFileSync(join(first.install, 'var/log/xferlog'), 'utf8').trim().split('\n');

    expect(stats.n).toBeGreaterThan(300);
    expect(Date.now() - Date.parse(stats.first)).toBeGreaterThan(35 * 86_400_000);
    expect(stats.accounts).toBe(3);
    expect(xferlog).toHaveLength(stats.n);
    expect(xferlog.every((l) => l.split(/\s+/).length === 18)).toBe(true);
  });

  it("carries a customer's edits to start-script.conf, security.properties and crontab", () => {
    const conf = (f: string) => readFileSync(join(first.install, 'conf', f), 'utf8');
    const pid = Number(readFileSync(join(first.install, 'var/run/skiff.pid'), 'utf8'));

    expect(conf('start-script.conf')).toMatch(/# .*heap.*\nHEAP_MB=1024\n/);
    expect(conf('security.properties')).toContain('\ntls.protocols=TLSv1.2,TLSv1.3\n');
    expect(conf('security.properties')).toContain(
      'tls.ciphers=ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA',
    );
    expect(parseCrontab(conf('crontab')).jobs.map((j) => j.type)).toEqual(['purge', 'archive']);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('--max-old-space-size=1024');
    expect(conf('accounts.json')).not.toContain('demo-');
  });

  it('is reused as it is on the next call', async () => {
    const pid = readFileSync(join(first.install, 'var/run/skiff.pid'), 'utf8');

    const second = await skiff.ensureSampleInstallation({ dir });

    expect(second).toMatchObject({ status: 'reused', install: first.install, url: first.url });
    expect(readFileSync(join(first.install, 'var/run/skiff.pid'), 'utf8')).toBe(pid);
    expect(await skiff.probeHealth(second.url)).toBeDefined();
  });

  it('is stopped with `uplift sample --stop` and started again by `uplift sample`', async () => {
    const stop = await runCliInProcess(['sample', '--stop', '--dir', dir]);
    const stopped = await skiff.probeHealth(first.url, 500);

    const again = await runCliInProcess(['sample', '--dir', dir, '--json']);

    expect(stop).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('stopped the sample skiff server'),
    });
    expect(stopped).toBeUndefined();
    expect(again.code).toBe(0);
    const data = JSON.parse(again.stdout);
    expect(data).toMatchObject({
      status: 'started',
      install: first.install,
      version: '5.3.0 Patch 1',
    });
    expect(await skiff.probeHealth(data.url)).toBeDefined();
  });

  it('shows the installation, URL and account names, never the passwords, in text', async () => {
    const r = await runCliInProcess(['sample', '--dir', dir]);

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reused (already running)');
    expect(r.stdout).toContain(first.install);
    expect(r.stdout).toMatch(/url +http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toContain('acme-payroll, globex-edi, initech-reports');
    expect(r.stdout).not.toContain('demo-');
  });

  describe('should error and not write if', () => {
    it('--version names another version than the existing sample', async () => {
      const before = readFileSync(join(first.install, 'version'), 'utf8');

      const r = await runCliInProcess(['sample', '--dir', dir, '--version', '5.4 GA', '--json']);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'UPLIFT_USAGE' } });
      expect(readFileSync(join(first.install, 'version'), 'utf8')).toBe(before);
    });

    it('--version is not a skiff release', async () => {
      const r = await runCliInProcess([
        'sample',
        '--dir',
        join(dir, 'other'),
        '--version',
        '9.9 GA',
        '--json',
      ]);

      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'UPLIFT_VERSION_INVALID' } });
    });
  });
});
