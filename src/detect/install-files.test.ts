import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as factsHandler } from '../cli/commands/facts.ts';
import { loadProfile, type Profile } from '../profile/index.ts';
import { detectFacts } from './index.ts';

/**
 * The files of an installation that detection reads (install-file.ts) on a small skiff tree: every
 * one must be a regular file inside the installation, read without blocking, and an odd one is a
 * coded error or an unknown fact, never a hang or a wrong fact.
 */
let profile: Profile;
let tmp: string;
let install: string;

beforeAll(async () => {
  profile = await loadProfile('skiff');
});

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'uplift-odd-'));
  install = join(tmp, 'install');
  const files: Record<string, string> = {
    version: '5.3.0 Patch 1\n',
    'conf/skiff.properties': 'db.type=sqlite\nproxy.host=\n',
    'conf/start-script.conf': 'HEAP_MB=512\n',
    'conf/security.properties': 'tls.protocols=TLSv1.2\n',
    'conf/crontab': '0 1 * * * purge\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(install, rel, '..'), { recursive: true });
    await writeFile(join(install, rel), text);
  }
  await mkdir(join(install, 'var/db'), { recursive: true });
  await mkdir(join(install, 'var/run'), { recursive: true });
  const db = new Database(join(install, 'var/db/skiff.db'));
  db.pragma('journal_mode = WAL');
  db.exec(
    'create table file_tracking (id integer primary key); insert into file_tracking default values;',
  );
  db.close();
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Path, type, mode and content of every entry: equal before and after means nothing was written. */
async function treeHash(dir: string): Promise<string> {
  const h = createHash('sha256');
  const visit = async (rel: string) => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      h.update(`${path}\0${st.mode}\0`);
      if (st.isDirectory()) await visit(path);
      else if (st.isFile()) h.update(await readFile(join(dir, path)));
    }
  };
  await visit('');
  return h.digest('hex');
}

async function replaceWithFifo(rel: string): Promise<void> {
  await rm(join(install, rel), { force: true });
  execFileSync('mkfifo', [join(install, rel)]);
}

/** Detection, failing the test instead of hanging when a read blocks. */
function detect(): Promise<Awaited<ReturnType<typeof detectFacts>>> {
  return Promise.race([
    detectFacts(profile, install),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('detection hung')), 3000).unref(),
    ),
  ]);
}

describe('should error and not write if a file detection reads is', () => {
  it.each(['version', 'conf/skiff.properties', 'conf/crontab', 'var/run/skiff.pid'])(
    'a FIFO: %s',
    async (rel) => {
      await replaceWithFifo(rel);
      const before = await treeHash(install);

      const err = detect();

      await expect(err).rejects.toMatchObject({
        code: 'UPLIFT_DETECT_CONFIG',
        exitCode: 2,
        location: { file: join(install, rel) },
        message: expect.stringContaining('is a FIFO'),
      });
      expect(await treeHash(install)).toBe(before);
    },
  );

  // As root (CI), the installation is handed to another owner, as a real one owned by a service
  // account is: the link's target is then judged by what that owner may read.
  it.runIf(process.getuid?.() === 0)(
    'a symbolic link out of the installation to a file its owner cannot read, which is never read',
    async () => {
      const secret = join(tmp, 'secret');
      await writeFile(secret, 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
      await rm(join(install, 'version'));
      await symlink(secret, join(install, 'version'));
      await chown(install, 65534, 65534);

      const err = detect();

      await expect(err).rejects.toMatchObject({
        code: 'UPLIFT_DETECT_CONFIG',
        location: { file: join(install, 'version') },
        message: expect.not.stringContaining('root:*'),
      });
    },
  );

  it.runIf(process.getuid?.() === 0)(
    'a symbolic link out of the installation to a file its owner can read (a configuration moved to another disk), which is followed',
    async () => {
      const moved = join(tmp, 'other-disk/skiff.properties');
      await mkdir(join(tmp, 'other-disk'));
      await writeFile(moved, 'db.type=postgresql\nproxy.host=\n', { mode: 0o640 });
      await chown(moved, 65534, 65534);
      await rm(join(install, 'conf/skiff.properties'));
      await symlink(moved, join(install, 'conf/skiff.properties'));
      await chown(install, 65534, 65534);

      const facts = await detect();

      expect(facts).toMatchObject({ database: { type: 'postgresql' } });
    },
  );

  it('a folder where conf/crontab belongs', async () => {
    await rm(join(install, 'conf/crontab'));
    await mkdir(join(install, 'conf/crontab'));

    await expect(detect()).rejects.toMatchObject({
      code: 'UPLIFT_DETECT_CONFIG',
      location: { file: join(install, 'conf/crontab') },
    });
  });

  it('UTF-32', async () => {
    const text = 'db.type=postgresql\n';
    const utf32 = Buffer.alloc(4 + text.length * 4);
    utf32.writeUInt32LE(0xfeff, 0);
    for (let i = 0; i < text.length; i++) utf32.writeUInt32LE(text.charCodeAt(i), 4 + i * 4);
    await writeFile(join(install, 'conf/skiff.properties'), utf32);

    await expect(detect()).rejects.toMatchObject({
      code: 'UPLIFT_DETECT_CONFIG',
      message: expect.stringContaining('UTF-32'),
    });
  });

  it.each([
    ['5 MB on one line', 'a'.repeat(5_000_000)],
    ['terminal escapes', '5.3.0 \u001b[31mPatch 1\n'],
  ])('a version file with %s, echoed escaped and cut short', async (_, text) => {
    await writeFile(join(install, 'version'), text);

    const err: Error = await detect().then(
      () => new Error('detected'),
      (e: Error) => e,
    );

    expect(err).toMatchObject({ code: 'UPLIFT_DETECT_NOT_INSTALLATION' });
    expect(err.message).not.toMatch(/\p{Cc}/u);
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('odd files give true facts', () => {
  it('a link inside the installation is followed', async () => {
    await writeFile(join(install, 'conf/real.properties'), 'db.type=postgresql\n');
    await rm(join(install, 'conf/skiff.properties'));
    await symlink('real.properties', join(install, 'conf/skiff.properties'));

    const facts = await detect();

    expect(facts).toMatchObject({ database: { type: 'postgresql' } });
  });

  it.each([
    ['little-endian', 'utf16le' as const],
    ['big-endian', 'utf16be' as const],
  ])('a UTF-16 %s settings file with a byte-order mark is decoded', async (_, order) => {
    const le = Buffer.from('\ufeffdb.type=postgresql\nproxy.host=p\n', 'utf16le');
    await writeFile(join(install, 'conf/skiff.properties'), order === 'utf16le' ? le : le.swap16());

    const facts = await detect();

    expect(facts).toMatchObject({
      database: { type: 'postgresql' },
      network: { proxyConfigured: true },
    });
  });

  it('a FIFO database leaves its rows unknown, with a warning', async () => {
    await replaceWithFifo('var/db/skiff.db');

    const facts = await detect();

    expect(facts).not.toHaveProperty('data.fileTrackingRows');
    expect(facts.detection.warnings).toContain(
      'data.fileTrackingRows unknown: var/db/skiff.db: it is a FIFO, not a regular file',
    );
  });

  it('a WAL database is counted without creating its -wal and -shm files', async () => {
    const before = await treeHash(install);

    const facts = await detect();

    expect(facts).toMatchObject({ data: { fileTrackingRows: 1 } });
    expect(await readdir(join(install, 'var/db'))).toEqual(['skiff.db']);
    expect(await treeHash(install)).toBe(before);
  });

  it('facts renders a settings file of 150,000 keys', async () => {
    const lines = Array.from({ length: 150_000 }, (_, i) => `k${i}=v`);
    await writeFile(
      join(install, 'conf/skiff.properties'),
      `db.type=sqlite\n${lines.join('\n')}\n`,
    );

    const result = await factsHandler({ install, profile: profile.dir });

    expect(result.text).toContain('k149999');
  });

  it('facts escapes control characters of a setting', async () => {
    await writeFile(join(install, 'conf/skiff.properties'), 'proxy.host=\\u001b[2J\n');

    const result = await factsHandler({ install, profile: profile.dir });

    expect(result.text).toContain('\\u001b[2J');
    expect(result.text).not.toContain('\u001b[2J');
  });
});
