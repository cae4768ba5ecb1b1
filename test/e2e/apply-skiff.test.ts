import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApplyFixture,
  applyArgs,
  currentCli,
  prepareApplyFixture,
  runtimeState,
  skiffProfileSetting,
  skiffProfileWith,
  startFreshInstall,
  stateDir,
  tableRows,
  uplift,
} from '../util/apply-skiff.ts';
import { repoRoot } from '../util/run-cli.ts';
import { selfSignedCert } from '../util/tls-cert.ts';
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
    // A second rollback has no upgrade left to undo, and names the backup that is still kept.
    const again = uplift(['rollback', '--install', install, '--json']);
    expect(again.code).toBe(2);
    const error = JSON.parse(again.stdout).error;
    const backup = history.runs[0].hops[0].backup as string;
    expect(error.code).toBe('UPLIFT_APPLY_NOTHING_TO_ROLL_BACK');
    expect(error.message).toContain(backup);
    expect(error.hint).toContain(`uplift restore ${backup} --install ${install}`);
  }, 120_000);

  it('upgrades and rolls back an installation with TLS enabled: the probe speaks HTTPS and trusts its certificate', async () => {
    const install = await freshInstall();
    await fx.skiff.stopInstallation(install);
    await mkdir(join(install, 'conf/tls'), { recursive: true });
    selfSignedCert(join(install, 'conf/tls/server.key'), join(install, 'conf/tls/server.crt'), 2);
    const props = join(install, 'conf/skiff.properties');
    await writeFile(
      props,
      (await readFile(props, 'utf8')).replace(/^tls\.enabled=.*$/m, 'tls.enabled=true'),
    );
    const started = await fx.skiff.startInstallation(install);
    expect(started.url).toMatch(/^https:/);

    const r = uplift(applyArgs(fx, install));

    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ to, outcome: 'committed' });
    expect(await readFile(props, 'utf8')).toContain('tls.enabled=true');
    expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
      version: to,
      healthy: true,
      url: expect.stringMatching(/^https:/),
    });

    const rb = uplift(['rollback', '--install', install, '--json']);

    expect(rb.code, rb.stderr).toBe(0);
    expect(JSON.parse(rb.stdout)).toMatchObject({ version: from, service: 'running' });
    expect(await fx.skiff.getInstallationStatus(install)).toMatchObject({
      version: from,
      healthy: true,
      url: expect.stringMatching(/^https:/),
    });
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

    for (const f of edited.filter((x) => x.startsWith('conf/'))) {
      expect((await stat(join(pristine, f))).ino).not.toBe((await stat(join(install, f))).ino);
      expect(await readFile(join(pristine, f)), f).toEqual(await readFile(join(shipped, f)));
    }
    // The merge bases are the configuration (skiff's paths.config, conf/**), each still the shipped
    // file; a program file is never merged (a change on both sides is a conflict), so it has none.
    const files = async (dir: string) =>
      (await hashTree(dir)).records.filter((x) => x.type === 'file').map((x) => [x.path, x.sha256]);
    const shippedConfig = (await files(shipped)).filter(([p]) => String(p).startsWith('conf/'));
    expect(shippedConfig.length).toBeGreaterThan(2);
    expect(await files(pristine)).toEqual(shippedConfig);
  }, 120_000);

  it('links the untouched program files from the current generation when the profile promises they are never written in place; rollback brings the old version back', async () => {
    const install = await freshInstall();
    const profile = await skiffProfileSetting(await mkdtemp(join(fx.root, 'profile-')), [
      [['apply', 'linkUnchangedProgramFiles'], true],
    ]);
    // Each vendor file as installed: its content's hash and its mode.
    const vendor = JSON.parse(await readFile(join(install, '.skiff/manifest.json'), 'utf8')) as {
      files: { path: string; sha256: string }[];
    };
    const before = new Map<string, { sha256: string; mode: number }>();
    for (const f of vendor.files) {
      const abs = join(install, f.path);
      before.set(f.path, {
        sha256: createHash('sha256')
          .update(await readFile(abs))
          .digest('hex'),
        mode: (await stat(abs)).mode & 0o7777,
      });
    }
    const oldHash = new Map(vendor.files.map((f) => [f.path, f.sha256]));

    const r = uplift(applyArgs(fx, install, '--profile', profile));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'committed', to });

    const after = JSON.parse(await readFile(join(install, '.skiff/manifest.json'), 'utf8')) as {
      files: { path: string; sha256: string; mode: number }[];
    };
    const old = (await readdir(stateDir(install))).find((n) => /^gen-.*-old$/.test(n)) as string;
    expect(old).toBeDefined();
    let linked = 0;
    for (const f of after.files) {
      const was = before.get(f.path);
      const ino = (await stat(join(install, f.path))).ino;
      const oldIno = (await stat(join(stateDir(install), old, f.path)).catch(() => null))?.ino;
      // A program file both versions ship alike, as shipped in the installation, with the mode
      // the new version gives it: the very same file in both generations. Configuration (conf/**),
      // what the new version changes and what the customer changed are never shared.
      const untouched =
        oldHash.get(f.path) === f.sha256 && was?.sha256 === f.sha256 && was.mode === f.mode;
      const shared = ino === oldIno;
      expect(shared, f.path).toBe(untouched && !f.path.startsWith('conf/'));
      if (shared) linked++;
    }
    expect(linked).toBeGreaterThan(5);

    const rb = uplift(['rollback', '--install', install, '--json']);
    expect(rb.code, rb.stderr).toBe(0);
    await expectOld(install);
  }, 120_000);

  /** A listener that accepts and never answers: a health endpoint that hangs. */
  async function hangingListener(): Promise<{ url: string; close: () => void }> {
    const server = createServer(() => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    return { url: `http://127.0.0.1:${port}/health`, close: () => server.close() };
  }

  it.each(['fail', 'hang'])(
    'rolls back automatically when the health probe %ss on the new version; the old version runs',
    async (mode) => {
      const install = await freshInstall();
      // The probe of the new version fails at once or never answers (the command's own timeout
      // ends it); the old version's passes, as a real probe of a working version does.
      const bad = mode === 'fail' ? 'exit 1' : 'sleep 100';
      const profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
        probes: [
          {
            name: 'health',
            command: {
              // biome-ignore lint/suspicious/noTemplateCurlyInString: the profile's own variable
              argv: ['sh', '-c', `if [ "$0" = "${to}" ]; then ${bad}; fi`, '${version}'],
              timeoutSeconds: 1,
            },
          },
        ],
        timeoutSeconds: 3,
        stableSeconds: 1,
      });

      const r = uplift(applyArgs(fx, install, '--profile', profile));

      expect(r.code, r.stderr).toBe(1);
      const error = JSON.parse(r.stdout).error;
      expect(error).toMatchObject({ code: 'UPLIFT_APPLY_ROLLED_BACK' });
      expect(error.message).toContain('step probe');
      expect(error.message).toContain(`${from} runs again`);
      await expectOld(install);
      const status = JSON.parse(uplift(['status', '--install', install, '--json']).stdout);
      expect(status).toMatchObject({ state: 'idle', last: { outcome: 'rolled-back' } });
    },
    120_000,
  );

  it('says the service is down (exit 1) when the old version does not pass its probe after the rollback either', async () => {
    const install = await freshInstall();
    const profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
      probes: [{ name: 'health', command: { argv: ['false'] } }],
      timeoutSeconds: 2,
      stableSeconds: 1,
    });

    const r = uplift(applyArgs(fx, install, '--profile', profile));

    expect(r.code, r.stderr).toBe(1);
    const error = JSON.parse(r.stdout).error;
    expect(error.code).toBe('UPLIFT_APPLY_SERVICE_DOWN');
    expect(error.message).toContain(`the files of ${from} are back, but the service is down`);
    expect(error.unchanged).toBe(false);
    expect(error.state).toContain('service is down');
    expect(await readFile(join(install, 'version'), 'utf8')).toBe(`${from}\n`);
    const history = JSON.parse(uplift(['history', '--install', install, '--json']).stdout);
    expect(history.runs[0]).toMatchObject({ outcome: 'rolled-back', service: 'down' });
  }, 120_000);

  it('refuses a second apply while one runs (exit 4), and recovers the lock a killed run left', async () => {
    const install = await freshInstall();
    const hang = await hangingListener();
    const profile = await skiffProfileWith(await mkdtemp(join(fx.root, 'profile-')), {
      probes: [{ name: 'health', http: { url: hang.url } }],
      timeoutSeconds: 20,
    });
    const first = spawn(
      process.execPath,
      [currentCli(), ...applyArgs(fx, install, '--profile', profile)],
      { cwd: repoRoot, env: process.env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
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
    hang.close();
    const status = uplift(['status', '--install', install, '--json']);
    expect(status.code).toBe(5);
    expect(JSON.parse(status.stdout).lock.stale).toContain('is gone');

    // The killed run's profile probes a listener that is gone now: resume with skiff's own.
    const resumed = uplift(['resume', '--install', install, '--profile', 'skiff', '--json']);

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

    // --abort: a plain resume now carries the run on to its target (docs/apply.md, "Resume").
    const resumed = uplift(['resume', '--install', install, '--abort', '--json']);

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
