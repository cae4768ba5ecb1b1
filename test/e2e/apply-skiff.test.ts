import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApplyFixture,
  applyArgs,
  currentCli,
  prepareApplyFixture,
  runtimeState,
  startFreshInstall,
  stateDir,
  tableRows,
  uplift,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { hashTree } from '../util/tree-hash.ts';

const from = '5.3.0 Patch 1';
const to = '5.3.0 Patch 2';

/**
 * One real hop of skiff (the sample installation with accounts, uploads, tracking rows and
 * customer edits, its server running) through the built CLI: apply, rollback, the probe failing
 * or hanging, a second apply while one runs, a stale lock, a torn journal, a dry run.
 */
describe('uplift apply on a running skiff installation', () => {
  let fx: ApplyFixture;
  const running: string[] = [];
  let oldTree: string;
  let oldRows: Record<string, unknown[]>;

  beforeAll(async () => {
    fx = await prepareApplyFixture('uplift-apply-', from, to);
    oldTree = (await hashTree(fx.template, { ignore: runtimeState })).hash;
    oldRows = tableRows(join(fx.template, 'var/db/skiff.db'));
  }, 180_000);

  afterEach(async () => {
    for (const i of running.splice(0)) await fx.skiff.stopInstallation(i).catch(() => undefined);
  });

  afterAll(async () => {
    await fx?.dispose();
  });

  async function freshInstall(): Promise<string> {
    const install = await startFreshInstall(fx);
    running.push(install);
    return install;
  }

  async function expectOld(install: string) {
    expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
    expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(oldRows);
    const st = await fx.skiff.getInstallationStatus(install);
    expect(st).toMatchObject({ version: from, healthy: true });
  }

  it('upgrades one hop: customer edits kept, data and tracking rows there, the new version answers; rollback brings the old one back', async () => {
    const install = await freshInstall();
    const heapBefore = await readFile(join(install, 'conf/start-script.conf'), 'utf8');

    const r = uplift(applyArgs(fx, install));

    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ from, to, outcome: 'committed' });
    expect(result.hops[0].downtimeSeconds).toBeGreaterThan(0);
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${to}\n`);
    expect(await readFile(join(install, 'conf/start-script.conf'), 'utf8')).toBe(heapBefore);
    expect(await readFile(join(install, 'conf/security.properties'), 'utf8')).toContain(
      'AES256-SHA',
    );
    expect(tableRows(join(install, 'var/db/skiff.db'))).toEqual(oldRows);
    const data = (p: string) => hashTree(join(p, 'data'));
    expect((await data(install)).hash).toBe((await data(fx.template)).hash);
    expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
      version: to,
      healthy: true,
    });
    const history = JSON.parse(uplift(['history', '--install', install, '--json']).stdout);
    expect(history.runs).toHaveLength(1);
    expect(history.runs[0]).toMatchObject({ kind: 'apply', outcome: 'committed', from, to });

    const rb = uplift(['rollback', '--install', install, '--json']);

    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ version: from, method: 'old-generation' });
    await expectOld(install);
    expect(uplift(['rollback', '--install', install]).code).toBe(2);
  }, 120_000);

  it('keeps the merge base apart from the installed files: an in-place edit after the upgrade leaves it as the vendor shipped it', async () => {
    const install = await freshInstall();
    expect(uplift(applyArgs(fx, install)).code).toBe(0);
    const pristine = join(stateDir(install), 'vendor', fx.skiff.releaseSlug(to), 'tree');
    const shipped = join(fx.releases, fx.skiff.releaseSlug(to), 'tree');
    const edited = ['conf/security.properties', 'conf/start-script.conf', 'bin/start_all'];

    // What operators do after an upgrade: append in place (same inode), as `>>` and editors that
    // write through do.
    for (const f of edited) await appendFile(join(install, f), '# edited after the upgrade\n');

    for (const f of edited) {
      expect((await stat(join(pristine, f))).ino).not.toBe((await stat(join(install, f))).ino);
      expect(await readFile(join(pristine, f)), f).toEqual(await readFile(join(shipped, f)));
    }
    // The merge base of every vendor file is still the shipped file.
    const files = async (dir: string) =>
      (await hashTree(dir)).records.filter((x) => x.type === 'file').map((x) => [x.path, x.sha256]);
    expect(await files(pristine)).toEqual(await files(shipped));
  }, 120_000);

  it.each(['fail', 'hang'])(
    'rolls back automatically when the health probe %ss; the old version runs',
    async (mode) => {
      const install = await freshInstall();

      const r = uplift(applyArgs(fx, install), {
        env: { UPLIFT_TEST_PROBE: mode, UPLIFT_PROBE_TIMEOUT_MS: '1500' },
      });

      expect(r.code, r.stderr).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'UPLIFT_APPLY_ROLLED_BACK' });
      expect(JSON.parse(r.stdout).error.message).toContain('step probe');
      await expectOld(install);
      const status = JSON.parse(uplift(['status', '--install', install, '--json']).stdout);
      expect(status).toMatchObject({ state: 'idle', last: { outcome: 'rolled-back' } });
    },
    120_000,
  );

  it('refuses a second apply while one runs (exit 4), and recovers the lock a killed run left', async () => {
    const install = await freshInstall();
    const first = spawn(process.execPath, [currentCli(), ...applyArgs(fx, install)], {
      cwd: repoRoot,
      env: { ...process.env, UPLIFT_TEST_PROBE: 'hang', UPLIFT_PROBE_TIMEOUT_MS: '20000' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let firstErr = '';
    first.stderr?.on('data', (b: Buffer) => {
      firstErr += b.toString();
    });
    const lock = join(stateDir(install), 'lock');
    for (let i = 0; i < 200; i++) {
      if (await readFile(lock, 'utf8').catch(() => '')) break;
      await new Promise((res) => setTimeout(res, 50));
    }

    const second = uplift(applyArgs(fx, install));

    expect(second.code, `${second.stdout}${second.stderr}\nfirst: ${firstErr}`).toBe(4);
    expect(JSON.parse(second.stdout).error.code).toBe('UPLIFT_APPLY_LOCKED');
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    const status = uplift(['status', '--install', install, '--json']);
    expect(status.code).toBe(5);
    expect(JSON.parse(status.stdout).lock.stale).toContain('is gone');

    const resumed = uplift(['resume', '--install', install, '--json']);

    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      recoveredLock: expect.stringContaining('is gone'),
    });
    const st = await fx.skiff.getInstallationStatus(install);
    expect([from, to]).toContain(st.version);
    expect(st.healthy).toBe(true);
  }, 120_000);

  it('ignores a torn last journal record on resume', async () => {
    const install = await freshInstall();
    const crashed = uplift(applyArgs(fx, install), { crashAt: 'backup:done' });
    expect(crashed.signal).toBe('SIGKILL');
    const journal = join(stateDir(install), 'journal');
    await appendFile(journal, '{"seq":99,"runId":"x","hop":0,"step":"stop","sta');

    const resumed = uplift(['resume', '--install', install, '--json']);

    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({
      action: 'clean-up-staging',
      ignoredTail: 'an unterminated last record',
    });
    await expectOld(install);
  }, 120_000);

  it('refuses a journal damaged in the middle', async () => {
    const install = await freshInstall();
    uplift(applyArgs(fx, install), { crashAt: 'backup:done' });
    const journal = join(stateDir(install), 'journal');
    const lines = (await readFile(journal, 'utf8')).split('\n');
    lines[1] = (lines[1] as string).replace('"verify"', '"verifx"');
    await writeFile(journal, lines.join('\n'));

    const resumed = uplift(['resume', '--install', install, '--json']);

    expect(resumed.code).toBe(5);
    expect(JSON.parse(resumed.stdout).error).toMatchObject({
      code: 'UPLIFT_APPLY_JOURNAL_CORRUPT',
      location: { line: 2 },
    });
  }, 120_000);

  it('--dry-run shows what would change and changes nothing', async () => {
    const install = await freshInstall();

    const r = uplift(applyArgs(fx, install, '--dry-run'));

    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.hops[0]).toMatchObject({ from, to, kind: 'delta' });
    expect(d.hops[0].counts.replaced).toBeGreaterThan(0);
    expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
    expect(JSON.parse(uplift(['history', '--install', install, '--json']).stdout).runs).toEqual([]);
  }, 120_000);

  it.each(['0', '-1', '2.5', 'all'])(
    'refuses --keep-runs %s with exit 2, changing nothing',
    async (n) => {
      const install = await freshInstall();

      const r = uplift(applyArgs(fx, install, '--keep-runs', n));

      expect(r.code, r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({
        code: 'UPLIFT_USAGE',
        message: `--keep-runs ${n} is not a whole number of at least 1`,
      });
      expect((await hashTree(install, { ignore: runtimeState })).hash).toBe(oldTree);
      expect(existsSync(stateDir(install))).toBe(false);
    },
    120_000,
  );
});
