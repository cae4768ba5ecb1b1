import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import {
  countRows,
  damageInstallTree,
  makeWorkspace,
  type Workspace,
  writeInstallTree,
} from '../util/backup-tree.ts';
import { cliPath, faultsCliPath, repoRoot } from '../util/run-cli.ts';

const bundleCliPath = join(repoRoot, 'dist/bundle/uplift.cjs');

import { hashTree } from '../util/tree-hash.ts';

let ws: Workspace;

beforeEach(async () => {
  ws = await makeWorkspace();
});

afterEach(async () => {
  await ws.cleanup();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI as a real process; `crashAt` names a step where it kills itself with SIGKILL (run
 * through the test-only entry that injects it), `limits` are prlimit(1) options (`--fsize=N`:
 * writes past N bytes fail with EFBIG).
 */
function uplift(
  args: string[],
  crashAt?: string,
  limits: string[] = [],
  entryPoint = cliPath,
): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  if (crashAt) env.UPLIFT_TEST_CRASH_AT = crashAt;
  else delete env.UPLIFT_TEST_CRASH_AT;
  const [cmd, ...rest] =
    limits.length > 0 ? ['prlimit', ...limits, process.execPath] : [process.execPath];
  const entry = crashAt ? faultsCliPath : entryPoint;
  const r = spawnSync(cmd as string, [...rest, entry, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function beside(): string[] {
  return readdirSync(ws.root).sort();
}

describe('uplift backup and restore (CLI)', () => {
  it('backs up, verifies and restores with --json, and reports damage with a code and exit 1', async () => {
    writeInstallTree(ws.install);
    const original = await hashTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');

    const backup = uplift(['backup', '--install', ws.install, '--out', out, '--json']);
    const verify = uplift(['backup', '--verify', out, '--json']);
    damageInstallTree(ws.install);
    const restore = uplift(['restore', out, '--install', ws.install, '--json']);

    expect(backup.code).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({
      file: out,
      consistency: { mode: 'offline' },
    });
    expect(backup.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, checksum: 'matched' });
    expect(restore.code).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ install: ws.install, recovered: 'none' });
    expect((await hashTree(ws.install)).records).toEqual(original.records);
    expect(countRows(join(ws.install, 'var/db/skiff.db'))).toBe(500);
    // restore and backup --verify count the same thing, in the same words.
    expect(JSON.parse(restore.stdout).totals).toEqual(JSON.parse(verify.stdout).totals);
    const contentOf = (text: string) => /content +(\d+ files?, \d+ director[^;]*);/.exec(text)?.[1];
    const verifyText = uplift(['backup', '--verify', out]);
    const restoreText = uplift(['restore', out, '--install', ws.install]);
    expect(restoreText.code, restoreText.stderr).toBe(0);
    expect(contentOf(restoreText.stdout)).toBeDefined();
    expect(contentOf(restoreText.stdout)).toBe(contentOf(verifyText.stdout));

    const bytes = readFileSync(out);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = (bytes[mid] as number) ^ 0x10;
    writeFileSync(out, bytes);
    const bad = uplift(['backup', '--verify', out]);
    const badJson = uplift(['backup', '--verify', out, '--json']);

    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error UPLIFT_BACKUP_(CORRUPT|ENTRY_MISMATCH)/);
    expect(bad.stderr).toMatch(/hint: \S/);
    expect(badJson.code).toBe(1);
    expect(JSON.parse(badJson.stdout).error.code).toMatch(
      /^UPLIFT_BACKUP_(CORRUPT|ENTRY_MISMATCH)$/,
    );
  });

  it('shows progress on standard error with --progress, never on standard output', () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');

    const r = uplift(['backup', '--install', ws.install, '--out', out, '--json', '--progress']);

    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/backing up {2}\d+\/\d+ files .* MiB\/s {2}done in/);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('needs exactly one of --install and --verify', () => {
    const r = uplift(['backup']);

    expect(r.code).toBe(2);
    expect(r.stderr).toContain('UPLIFT_USAGE');
  });
});

describe('resource limits (reliability guide C.5)', () => {
  it('a backup that hits the file size limit fails with a coded error and leaves no file', () => {
    writeInstallTree(ws.install);
    writeFileSync(join(ws.install, 'data/upload.bin'), randomBytes(3 << 20));
    const out = join(ws.root, 'b.tar.gz');

    const r = uplift(['backup', '--install', ws.install, '--out', out], undefined, [
      '--fsize=1000000',
    ]);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UPLIFT_BACKUP_WRITE_FAILED');
    expect(r.stderr.replace(/\s+/g, ' ')).toContain('ulimit -f');
    expect(beside()).toEqual(['skiff']);
  });

  it('a restore that hits the file size limit leaves the installation untouched', async () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');
    expect(uplift(['backup', '--install', ws.install, '--out', out]).code).toBe(0);
    damageInstallTree(ws.install);
    const damaged = (await hashTree(ws.install)).hash;

    // data/big.bin is 3 MiB.
    const r = uplift(['restore', out, '--install', ws.install], undefined, ['--fsize=1000000']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('UPLIFT_BACKUP_WRITE_FAILED');
    expect(r.stderr).toContain('Nothing was changed.');
    expect((await hashTree(ws.install)).hash).toBe(damaged);
    expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('backup and restore keep to a few file descriptors (--nofile=40, as the reliability guide C.5.5 sets it)', async () => {
    writeInstallTree(ws.install);
    const original = (await hashTree(ws.install)).hash;
    const out = join(ws.root, 'b.tar.gz');
    // The limit is for the work, which streams: the first validation of the profiles (a cold
    // cache) loads zod, whose locale modules Node's loader opens all at once.
    expect(uplift(['profiles']).code).toBe(0);

    // The installed command (the package's bin, one bundled file): the tsc build's entry opens
    // its hundreds of modules as Node's ESM loader reads them, several at once, which says
    // nothing about the work.
    const backup = uplift(
      ['backup', '--install', ws.install, '--out', out],
      undefined,
      ['--nofile=40'],
      bundleCliPath,
    );
    damageInstallTree(ws.install);
    const restore = uplift(
      ['restore', out, '--install', ws.install],
      undefined,
      ['--nofile=40'],
      bundleCliPath,
    );

    expect([backup.code, restore.code], backup.stderr + restore.stderr).toEqual([0, 0]);
    expect((await hashTree(ws.install)).hash).toBe(original);
  });
});

describe('crash safety', () => {
  async function prepared(): Promise<{ out: string; original: string; damaged: string }> {
    writeInstallTree(ws.install);
    const original = (await hashTree(ws.install)).hash;
    const out = join(ws.root, 'b.tar.gz');
    expect(uplift(['backup', '--install', ws.install, '--out', out]).code).toBe(0);
    damageInstallTree(ws.install);
    return { out, original, damaged: (await hashTree(ws.install)).hash };
  }

  it('a crash just before the swap leaves the old tree; running restore again finishes it', async () => {
    const { out, original, damaged } = await prepared();

    const crashed = uplift(['restore', out, '--install', ws.install], 'restore-before-swap');

    expect(crashed.signal).toBe('SIGKILL');
    expect((await hashTree(ws.install)).hash).toBe(damaged);
    const blocked = uplift(['backup', '--install', ws.install, '--out', join(ws.root, 'c.tar.gz')]);
    expect(blocked.code).toBe(5);
    expect(blocked.stderr).toContain('UPLIFT_RESTORE_INCOMPLETE');

    const again = uplift(['restore', out, '--install', ws.install, '--json']);

    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ recovered: 'staged' });
    expect((await hashTree(ws.install)).hash).toBe(original);
    expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('a crash between the two renames is finished by the next restore', async () => {
    const { out, original } = await prepared();

    const crashed = uplift(['restore', out, '--install', ws.install], 'restore-between-renames');

    expect(crashed.signal).toBe('SIGKILL');
    expect(existsSync(ws.install)).toBe(false);
    expect(uplift(['backup', '--install', ws.install]).code).toBe(5);

    const again = uplift(['restore', out, '--install', ws.install]);

    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Finished the interrupted restore');
    expect((await hashTree(ws.install)).hash).toBe(original);
    expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('a crash after the swap leaves the new tree; the next restore removes the leftovers', async () => {
    const { out, original } = await prepared();

    const crashed = uplift(['restore', out, '--install', ws.install], 'restore-after-swap');

    expect(crashed.signal).toBe('SIGKILL');
    expect((await hashTree(ws.install)).hash).toBe(original);
    const again = uplift(['restore', out, '--install', ws.install, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({
      recovered: 'cleaned-up',
      finishedInterrupted: true,
    });
    expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('restoring another backup after a crash before the swap discards the first staging tree', async () => {
    const { out } = await prepared();
    const second = join(ws.root, 'second.tar.gz');
    expect(uplift(['backup', '--install', ws.install, '--out', second]).code).toBe(0);
    const damaged = (await hashTree(ws.install)).hash;
    uplift(['restore', out, '--install', ws.install], 'restore-before-swap');

    const r = uplift(['restore', second, '--install', ws.install, '--json']);

    expect(JSON.parse(r.stdout)).toMatchObject({ recovered: 'discarded-staging' });
    expect((await hashTree(ws.install)).hash).toBe(damaged);
    expect(beside()).toEqual([
      'b.tar.gz',
      'b.tar.gz.sha256',
      'second.tar.gz',
      'second.tar.gz.sha256',
      'skiff',
    ]);
  });

  it('a crash while the backup is written never leaves something that looks like a backup', async () => {
    writeInstallTree(ws.install);
    const out = join(ws.root, 'b.tar.gz');

    const crashed = uplift(
      ['backup', '--install', ws.install, '--out', out],
      'backup-before-rename',
    );

    expect(crashed.signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    expect(uplift(['backup', '--verify', out]).code).toBe(2);
    expect(uplift(['backup', '--install', ws.install, '--out', out]).code).toBe(0);
    // The next backup to the same name removed the dead process's temp file.
    expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
  });

  it('SIGKILL at random moments of a restore always leaves the old tree, the new one, or a journal that finishes it', async () => {
    const { out, original, damaged } = await prepared();
    const t0 = performance.now();
    expect(uplift(['restore', out, '--install', ws.install]).code).toBe(0);
    const full = performance.now() - t0;
    // Seeded, so a failure can be replayed.
    const random = createRandom(1234567);
    const outcomes = new Set<string>();

    for (let i = 0; i < 8; i++) {
      damageInstallTree(ws.install);
      const before = (await hashTree(ws.install)).hash;
      expect(before).toBe(damaged);
      const delay = random() * full * 1.1;
      const child = spawn(process.execPath, [cliPath, 'restore', out, '--install', ws.install], {
        cwd: repoRoot,
        stdio: 'ignore',
      });
      // Listen before the wait: a restore that ends before the kill has already emitted 'exit'.
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited;

      const journal = existsSync(join(ws.root, '.skiff.uplift-restore.json'));
      const now = existsSync(ws.install) ? (await hashTree(ws.install)).hash : 'missing';
      outcomes.add(now === original ? 'new' : now === before ? 'old' : now);
      expect(
        [original, before, ...(journal ? ['missing'] : [])],
        `seed 1234567, run ${i}, kill at ${delay} ms`,
      ).toContain(now);

      expect(uplift(['restore', out, '--install', ws.install]).code).toBe(0);
      expect((await hashTree(ws.install)).hash).toBe(original);
      expect(beside()).toEqual(['b.tar.gz', 'b.tar.gz.sha256', 'skiff']);
    }
    expect(outcomes.size).toBeGreaterThan(0);
  }, 360_000);
});
