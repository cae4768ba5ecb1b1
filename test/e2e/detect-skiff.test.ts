import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featuresFor } from '../../products/skiff/src/index.ts';
import { detectFacts } from '../../src/detect/index.ts';
import { readFacts } from '../../src/plan/index.ts';
import { loadProfile, type Profile } from '../../src/profile/index.ts';
import { repoRoot, runCliProcess } from '../util/run-cli.ts';

/**
 * skiff detection on a real installation tree laid out as products/skiff/layout.md says: the
 * vendor's files and manifest, then a customer's edits, data, history and running processes.
 * The vendor's files are written here so every customization is known exactly; the last block
 * runs on a release built and installed by products/skiff itself.
 */

/** The cipher list skiff itself ships before 5.5, so the hand-built tree stays in step with it. */
const before55Ciphers = featuresFor('5.3.0 Patch 1').tls.ciphers;

/** The vendor's files of skiff 5.3.0 Patch 1, as this test ships them. */
const vendorFiles: Record<string, { text: string; mode: number }> = {
  version: { text: '5.3.0 Patch 1\n', mode: 0o644 },
  'bin/start_all': {
    text: '#!/bin/sh\nexec node "$(dirname "$0")/../lib/server.js"\n',
    mode: 0o755,
  },
  'bin/stop_all': { text: '#!/bin/sh\nkill "$(cat var/run/skiff.pid)"\n', mode: 0o755 },
  'lib/server.js': { text: 'setInterval(() => {}, 1000);\n', mode: 0o644 },
  'lib/helper.js': { text: 'export const helper = 1;\n', mode: 0o644 },
  'conf/skiff.properties': {
    text: 'http.host=127.0.0.1\nhttp.port=0\ndb.type=sqlite\nproxy.host=\nproxy.port=\n',
    mode: 0o644,
  },
  'conf/start-script.conf': { text: '# heap in MB\nHEAP_MB=512\nHTTP_PORT=\n', mode: 0o644 },
  'conf/security.properties': {
    text: `tls.protocols=TLSv1.1,TLSv1.2,TLSv1.3\ntls.ciphers=${before55Ciphers}\n`,
    mode: 0o644,
  },
  'conf/crontab': { text: '# minute hour day month weekday command\n', mode: 0o644 },
  'conf/accounts.json': { text: '{ "accounts": [] }\n', mode: 0o644 },
};

/**
 * The files the fixture's customer changed, added and removed. var/**, data/** and .skiff/** are
 * ignored: logs, pid files, uploads, the manifest itself.
 */
const customizedFiles = {
  changed: [
    'bin/stop_all',
    'conf/crontab',
    'conf/security.properties',
    'conf/skiff.properties',
    'conf/start-script.conf',
  ],
  added: ['conf/local-notes.txt'],
  removed: ['lib/helper.js'],
};

let tmp: string;
let install: string;
let profile: Profile;
const children: ChildProcess[] = [];

async function put(path: string, text: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(install, path)), { recursive: true });
  await writeFile(join(install, path), text);
  await chmod(join(install, path), mode);
}

/** Path, type, mode and content of every entry: equal before and after means nothing was written. */
async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const visit = async (rel: string) => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      h.update(`${path}\0${st.mode}\0`);
      if (st.isDirectory()) await visit(path);
      else h.update(await readFile(join(dir, path)));
    }
  };
  await visit('');
  return h.digest('hex');
}

beforeAll(async () => {
  profile = await loadProfile('skiff');
  tmp = await mkdtemp(join(tmpdir(), 'uplift-skiff-'));
  install = join(tmp, 'skiff');

  const manifest = [];
  for (const [path, f] of Object.entries(vendorFiles).sort(([a], [b]) => (a < b ? -1 : 1))) {
    await put(path, f.text, f.mode);
    const bytes = Buffer.from(f.text);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    manifest.push({ path, size: bytes.length, mode: f.mode, sha256 });
  }
  await put(
    '.skiff/manifest.json',
    JSON.stringify({ product: 'skiff', version: '5.3.0 Patch 1', files: manifest }),
  );

  // The customer's edits.
  await put(
    'conf/skiff.properties',
    'http.host=127.0.0.1\nhttp.port=8080\ndb.type=sqlite\nproxy.host=proxy.example.com\nproxy.port=3128\nproxy.password=hunter2\n',
  );
  await put('conf/start-script.conf', '# heap in MB\nHEAP_MB=2048\nHTTP_PORT=8443\n');
  await put(
    'conf/security.properties',
    'tls.protocols=TLSv1.2, TLSv1.3\ntls.ciphers=TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES256-GCM-SHA384\n',
  );
  await put(
    'conf/crontab',
    '# minute hour day month weekday command\n15 2 * * * bin/skiff-purge --days 30\n\n0 4 * * 0 bin/skiff-archive --days 90\n',
  );
  await chmod(join(install, 'bin/stop_all'), 0o700);
  await put('conf/local-notes.txt', 'ask Bob before restarting\n');
  await unlink(join(install, 'lib/helper.js'));

  // Runtime state, data and history: the customer's by nature, never customizations.
  await put(
    'var/log/xferlog',
    'Mon Jan 6 10:00:00 2025 1 127.0.0.1 12 /alice/a.csv b _ i r alice ftp 0 * c\n',
  );
  await put('data/alice/a.csv', 'a,b\n1,2\n');
  await put('var/db/hist/2024/transfers-1.log', 'x'.repeat(100));
  await put('var/db/hist/2024/transfers-2.log', 'y'.repeat(250));
  await put('var/db/hist/2025/transfers-3.log', 'z'.repeat(50));
  const db = new Database(join(install, 'var/db/skiff.db'));
  db.exec('create table transfers (id integer primary key, path text)');
  const insert = db.prepare('insert into transfers (path) values (?)');
  for (const p of ['/a', '/b', '/c']) insert.run(p);
  db.close();

  // The server runs (a real process of the installation); a scheduler crashed and left its pid.
  const server = spawn(process.execPath, [join(install, 'lib/server.js')], { stdio: 'ignore' });
  children.push(server);
  await put('var/run/skiff.pid', `${server.pid}\n`);
  const exited = spawnSync(process.execPath, ['-e', '']).pid;
  await put('var/run/scheduler.pid', `${exited}\n`);
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await rm(tmp, { recursive: true, force: true });
});

describe('skiff detection on an installation tree', () => {
  it('reads the version, settings, derived catalog facts and data volumes', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts).toMatchObject({
      product: 'skiff',
      version: '5.3.0 Patch 1',
      database: { type: 'sqlite' },
      network: { proxyConfigured: true },
      settings: {
        'Direct.Connection.When.Proxy.Down': false,
        'http.port': 8080,
        'proxy.host': 'proxy.example.com',
        'proxy.password': '(redacted)',
      },
      startScript: { HEAP_MB: 2048, HTTP_PORT: 8443 },
      security: { tlsProtocols: ['TLSv1.2', 'TLSv1.3'], customCipherSets: true },
      startScripts: { customized: true },
      scheduler: { cronJobs: 2 },
      data: { fileTrackingRows: 3, historyFiles: 3, historyBytes: 400, uploadBytes: 8 },
    });
    expect(facts.data).toHaveProperty('installBytes', expect.any(Number));
    expect(JSON.stringify(facts)).not.toContain('hunter2');
  });

  it('lists exactly the files the customer changed, added and removed, with mode changes', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts.customizedFiles).toStrictEqual({
      ...customizedFiles,
      notes: { 'bin/stop_all': 'mode 0755 → 0700; content as shipped' },
    });
  });

  it('tells the running server from a stale pid file', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts.services).toStrictEqual([
      {
        name: 'server',
        pidFile: 'var/run/skiff.pid',
        pid: children[0]?.pid,
        running: true,
        leftover: false,
      },
      {
        name: 'scheduler',
        pidFile: 'var/run/scheduler.pid',
        pid: expect.any(Number),
        running: false,
        leftover: true,
      },
    ]);
  });

  it('does not take a live process of another program for the server', async () => {
    // This test's own process runs, but not from the installation.
    const copy = join(tmp, 'copy');
    await rm(copy, { recursive: true, force: true });
    await mkdir(copy);
    for (const path of ['version', '.skiff/manifest.json']) {
      await mkdir(dirname(join(copy, path)), { recursive: true });
      await writeFile(join(copy, path), await readFile(join(install, path)));
    }
    await mkdir(join(copy, 'var/run'), { recursive: true });
    await writeFile(join(copy, 'var/run/skiff.pid'), `${process.pid}\n`);

    const facts = await detectFacts(profile, copy);

    expect(facts.services[0]).toMatchObject({ running: false, leftover: true, pid: process.pid });
    expect(facts.services[0]?.note).toMatch(/another program/);
  });

  it('records the owner and who runs uplift', async () => {
    const facts = await detectFacts(profile, install);

    expect(facts.owner).toMatchObject({ uid: process.getuid?.(), foreignFiles: 0 });
    expect(facts.runningAs.uid).toBe(process.getuid?.());
    expect(facts.platform.id).toBe(
      `${process.platform === 'win32' ? 'win' : process.platform}-${process.arch === 'x64' ? 'x86-64' : process.arch}`,
    );
  });

  it('is deterministic and reads only', async () => {
    const before = await treeHash(install);

    const a = await detectFacts(profile, install);
    const b = await detectFacts(profile, install);

    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toMatch(/detectedAt|timestamp/);
    expect(await treeHash(install)).toBe(before);
  });

  it('lays a --facts file and --fact flags over the detected facts', async () => {
    const file = join(tmp, 'more-facts.yaml');
    await writeFile(file, 'database:\n  version: "15"\nscheduler:\n  cronJobs: 5\n');

    const facts = await readFacts(profile, {
      install,
      factsFile: file,
      factFlags: ['settings.Direct.Connection.When.Proxy.Down=true', 'data.fileTrackingRows=10'],
    });

    expect(facts).toMatchObject({
      version: '5.3.0 Patch 1',
      database: { type: 'sqlite', version: '15' },
      scheduler: { cronJobs: 5 },
      settings: { 'Direct.Connection.When.Proxy.Down': true, 'proxy.host': 'proxy.example.com' },
      data: { fileTrackingRows: 10, historyFiles: 3 },
    });
  });
});

describe('uplift facts and uplift plan --install (the built CLI)', () => {
  it('facts --json prints the same facts as the API', async () => {
    const res = runCliProcess(['facts', '--install', install, '--json']);

    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toStrictEqual(await detectFacts(profile, install));
  });

  it('facts recognises the product without --profile and shows the facts grouped', () => {
    const res = runCliProcess(['facts', '--install', install]);

    expect(res.code).toBe(0);
    expect(res.stdout).toContain('skiff 5.3.0 Patch 1');
    expect(res.stdout).toMatch(/server\s+running \(pid \d+\)/);
    expect(res.stdout).toMatch(/scheduler\s+leftover pid file/);
    expect(res.stdout).toMatch(/changed\s+bin\/stop_all\s+mode 0755 → 0700; content as shipped/);
    expect(res.stdout).toMatch(/removed\s+lib\/helper\.js/);
    expect(res.stdout).toMatch(/fileTrackingRows\s+3/);
  });

  it('plan --install plans from the detected version and names the customized files', () => {
    const res = runCliProcess(['plan', '--install', install, '--to', '5.5 GA', '--json']);

    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    expect(plan.profile).toBe('skiff');
    expect(plan.from).toBe('5.3.0 Patch 1');
    expect(plan.customizedFiles).toStrictEqual(customizedFiles);
    const applying = plan.incompatibilities
      .filter((i: { outcome: string }) => i.outcome === 'applies')
      .map((i: { id: string }) => i.id);
    // Every skiff incompatibility is decided by detected facts; TLSv1.1 is no longer enabled.
    expect(applying).toEqual([
      'file-tracking-table',
      'scheduler-cron-jobs',
      'proxy-direct-fallback',
      'tls-cipher-defaults',
      'start-script-settings',
    ]);
    expect(
      plan.incompatibilities.filter((i: { outcome: string }) => i.outcome === 'unknown'),
    ).toEqual([]);
  });

  it('plan --install gives the same hash every time', () => {
    const a = JSON.parse(runCliProcess(['plan', '--install', install, '--json']).stdout);
    const b = JSON.parse(runCliProcess(['plan', '--install', install, '--json']).stdout);

    expect(a.hash).toBe(b.hash);
  });

  it.each([
    [
      'text',
      ['--format', 'text'],
      /Customized files: 5 changed, 1 added, 1 removed[\s\S]*conf\/start-script\.conf/,
    ],
    [
      'markdown',
      ['--format', 'markdown'],
      /## Customized files[\s\S]*- changed: `conf\/start-script\.conf`/,
    ],
  ])('the %s view names the customer’s edited settings files', (_name, args, pattern) => {
    const res = runCliProcess(['plan', '--install', install, ...args]);

    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(pattern);
  });

  describe('should error and not write if', () => {
    it('the folder is not an installation', async () => {
      const before = await treeHash(tmp);

      const res = runCliProcess(['facts', '--install', join(install, 'conf'), '--json']);
      const plan = runCliProcess(['plan', '--install', join(install, 'conf')]);

      expect(res.code).toBe(2);
      expect(JSON.parse(res.stdout).error.code).toBe('UPLIFT_DETECT_NOT_INSTALLATION');
      expect(plan.code).toBe(2);
      expect(plan.stderr).toContain('UPLIFT_DETECT_NOT_INSTALLATION');
      expect(plan.stderr).toContain('Nothing was changed.');
      expect(await treeHash(tmp)).toBe(before);
    });

    it('the profile cannot read it', () => {
      const res = runCliProcess(['facts', '--install', install, '--profile', 'securetransport']);

      expect(res.code).toBe(2);
      expect(res.stderr).toContain('UPLIFT_DETECT_NOT_INSTALLATION');
      expect(res.stderr).toContain('conf/version.info is missing');
    });

    it('a settings file is broken: the error names file:line, and --out is not written', async () => {
      const broken = join(tmp, 'broken');
      await rm(broken, { recursive: true, force: true });
      await mkdir(join(broken, 'conf'), { recursive: true });
      await writeFile(join(broken, 'version'), '5.3.0 Patch 1\n');
      await writeFile(
        join(broken, 'conf/skiff.properties'),
        'http.port=8080\nproxy.host=\\u00zz\n',
      );
      const out = join(tmp, 'plan.json');
      const before = await treeHash(broken);

      const res = runCliProcess(['plan', '--install', broken, '--json', '--out', out]);

      expect(res.code).toBe(2);
      const error = JSON.parse(res.stdout).error;
      expect(error.code).toBe('UPLIFT_DETECT_CONFIG');
      expect(error.location).toMatchObject({
        file: join(broken, 'conf/skiff.properties'),
        line: 2,
      });
      expect(error.message).toContain('skiff.properties:2');
      expect(existsSync(out)).toBe(false);
      expect(await treeHash(broken)).toBe(before);
    });

    it('no profile and no installation are given', () => {
      const res = runCliProcess(['plan', '--to', 'latest']);

      expect(res.code).toBe(2);
      expect(res.stderr).toContain('UPLIFT_USAGE');
    });
  });
});

/** products/skiff builds and installs real releases; vitest's global setup compiled its server. */
const skiffProduct = join(repoRoot, 'products/skiff/src/index.ts');

describe('skiff detection on a release installed by products/skiff', () => {
  let real: string;

  beforeAll(async () => {
    const skiff = (await import(skiffProduct)) as {
      buildReleaseTree(version: string, out: string): { tree: string };
      installRelease(tree: string, dir: string): { install: string };
    };
    const { tree } = skiff.buildReleaseTree('5.4 GA', join(tmp, 'releases'));
    real = skiff.installRelease(tree, join(tmp, 'real')).install;
  });

  it('finds a fresh installation exactly as the vendor shipped it', async () => {
    const facts = await detectFacts(profile, real);

    expect(facts).toMatchObject({
      version: '5.4 GA',
      customizedFiles: { changed: [], added: [], removed: [] },
      security: { customCipherSets: false, tlsProtocols: ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'] },
      startScripts: { customized: false },
      network: { proxyConfigured: false },
      settings: { 'Direct.Connection.When.Proxy.Down': false },
      database: { type: 'sqlite' },
      data: { fileTrackingRows: 0, historyFiles: 0 },
      scheduler: { cronJobs: 0 },
    });
    expect(facts.services).toEqual([
      { name: 'server', pidFile: 'var/run/skiff.pid', pid: null, running: false, leftover: false },
    ]);
    expect(facts.detection.warnings).toEqual([]);
  });

  it('sees the customer’s edits of that release', async () => {
    const conf = join(real, 'conf/security.properties');
    await writeFile(conf, `${await readFile(conf, 'utf8')}tls.ciphers=AES128-SHA\n`);

    const facts = await detectFacts(profile, real);

    expect(facts.customizedFiles?.changed).toEqual(['conf/security.properties']);
    expect(facts.security).toMatchObject({ customCipherSets: true });
  });
});
