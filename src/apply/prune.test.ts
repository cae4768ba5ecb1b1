import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { statePaths } from './paths.ts';
import { backupsToPrune, pruneBackups } from './prune.ts';

const run = (n: number) => `2026112${n}T020000Z-a1b2c${n}`;
const backups = (id: string, hops: number, installer = false) =>
  Array.from({ length: hops }, (_, h) => [
    `${id}-${h}.tar.gz`,
    ...(installer ? [`${id}-${h}-installer.tar.gz`] : []),
  ]).flat();

describe('backupsToPrune', () => {
  it("keeps this run's first and last hop, drops the hops in between", () => {
    const names = backups(run(5), 6);

    expect(backupsToPrune(names, run(5), 6, 3)).toEqual(
      [1, 2, 3, 4].map((h) => `${run(5)}-${h}.tar.gz`),
    );
  });

  it("keeps both of the vendor installer's files of the hops it keeps", () => {
    const names = backups(run(5), 3, true);

    expect(backupsToPrune(names, run(5), 3, 3)).toEqual([
      `${run(5)}-1-installer.tar.gz`,
      `${run(5)}-1.tar.gz`,
    ]);
  });

  it('keeps the newest runs up to --keep-runs, this one included, and drops older ones whole', () => {
    const names = [...backups(run(1), 2), ...backups(run(2), 1), ...backups(run(3), 2)];

    expect(backupsToPrune(names, run(3), 2, 2)).toEqual(backups(run(1), 2));
    expect(backupsToPrune(names, run(3), 2, 1)).toEqual([
      ...backups(run(1), 2),
      ...backups(run(2), 1),
    ]);
    expect(backupsToPrune(names, run(3), 2, 3)).toEqual([]);
  });

  it('never touches other files or runs newer than this one', () => {
    const names = [
      'notes.txt',
      'skiff-backup-20250101T020000Z.tar.gz',
      `${run(1)}-0.tar.gz.tmp-123`,
      ...backups(run(9), 3),
      ...backups(run(4), 1),
    ];

    expect(backupsToPrune(names, run(4), 1, 1)).toEqual([]);
  });
});

describe('pruneBackups', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('removes what backupsToPrune names, with its .sha256 sidecar, and returns the paths', async () => {
    dir = await mkdtemp(join(tmpdir(), 'uplift-prune-'));
    const p = statePaths(join(dir, 'install'));
    await mkdir(p.backups, { recursive: true });
    const names = [...backups(run(1), 1), ...backups(run(2), 3), 'operator-copy.tar.gz'];
    for (const n of names) {
      await writeFile(join(p.backups, n), n);
      await writeFile(join(p.backups, `${n}.sha256`), `${n}\n`);
    }

    const removed = await pruneBackups(p, run(2), 3, 1);

    expect(removed).toEqual(
      [`${run(1)}-0.tar.gz`, `${run(2)}-1.tar.gz`].map((n) => join(p.backups, n)),
    );
    const kept = [`${run(2)}-0.tar.gz`, `${run(2)}-2.tar.gz`, 'operator-copy.tar.gz'];
    expect((await readdir(p.backups)).sort()).toEqual(
      kept.flatMap((n) => [n, `${n}.sha256`]).sort(),
    );
  });

  it('does nothing when there is no backups folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'uplift-prune-'));

    expect(await pruneBackups(statePaths(join(dir, 'install')), run(2), 1, 3)).toEqual([]);
  });
});
