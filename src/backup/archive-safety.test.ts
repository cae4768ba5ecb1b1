import { writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar, { type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeWorkspace, type Workspace, writeInstallTree } from '../../test/util/backup-tree.ts';
import { hashTree } from '../../test/util/tree-hash.ts';
import { restoreBackup, verifyBackup } from './index.ts';

let ws: Workspace;

beforeEach(async () => {
  ws = await makeWorkspace();
});

afterEach(async () => {
  await ws.cleanup();
});

type Crafted = Partial<Header> & { name: string; body?: string };

/** A backup-shaped archive with whatever entries a test needs, the way an attacker would write one. */
async function craft(entries: Crafted[], extra: Record<string, unknown> = {}): Promise<string> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  const info = {
    format: 'uplift-backup/1',
    id: 'crafted',
    installation: '/opt/skiff',
    productVersion: null,
    created: '2025-01-01T00:00:00.000Z',
    tool: { name: 'uplift', version: '0.1.0' },
    consistency: {
      mode: 'offline',
      how: '',
      runningPids: [],
      stoppedByUplift: false,
      sqliteOnlineCopies: [],
      excluded: [],
    },
    planned: { entries: 1, files: 1, directories: 0, symlinks: 0, hardlinks: 0, bytes: 10 },
    ...extra,
  };
  const all: Crafted[] = [
    { name: 'uplift-backup/header.json', body: JSON.stringify(info) },
    { name: 'tree/', type: 'directory', mode: 0o755 },
    ...entries,
    { name: 'uplift-backup/manifest.json', body: JSON.stringify({ ...info, entries: [] }) },
  ];
  for (const { body, ...h } of all) {
    await new Promise<void>((res, rej) => {
      const cb = (err?: Error | null) => (err ? rej(err) : res());
      if (body !== undefined) pack.entry(h, Buffer.from(body), cb);
      else pack.entry(h, cb);
    });
  }
  pack.finalize();
  await done;
  const file = join(ws.root, 'crafted.tar.gz');
  writeFileSync(file, gzipSync(Buffer.concat(chunks)));
  return file;
}

describe('restore should refuse an unsafe archive and write nothing if', () => {
  it.each<[string, Crafted[]]>([
    ['a path climbs out with ..', [{ name: 'tree/../escaped', body: 'x' }]],
    ['a path climbs out in the middle', [{ name: 'tree/data/../../escaped', body: 'x' }]],
    ['a path is absolute', [{ name: 'tree//tmp/escaped', body: 'x' }]],
    ['an entry is outside tree/', [{ name: 'escaped', body: 'x' }]],
    ['a first-format archive has a behind/ entry', [{ name: 'behind/0/x', body: 'x' }]],
    [
      'a file comes through a symlink from the archive',
      [
        { name: 'tree/lib', type: 'symlink', linkname: '..' },
        { name: 'tree/lib/escaped', body: 'x' },
      ],
    ],
    [
      'a hard link points outside the tree',
      [{ name: 'tree/h', type: 'link', linkname: 'tree/../../escaped' }],
    ],
    [
      'a hard link points to a file not in the archive',
      [{ name: 'tree/h', type: 'link', linkname: '/etc/hostname' }],
    ],
    [
      'a hard link points to a symlink',
      [
        { name: 'tree/s', type: 'symlink', linkname: '/etc/hostname' },
        { name: 'tree/h', type: 'link', linkname: 'tree/s' },
      ],
    ],
    [
      'an entry is a character device',
      [{ name: 'tree/null', type: 'character-device', devmajor: 1, devminor: 3 }],
    ],
    ['an entry is a FIFO', [{ name: 'tree/fifo', type: 'fifo' }]],
    [
      'an entry appears twice',
      [
        { name: 'tree/a', body: 'one' },
        { name: 'tree/a', body: 'two' },
      ],
    ],
    ['a file comes before its directory', [{ name: 'tree/conf/x', body: 'x' }]],
  ])('%s', async (_why, entries) => {
    writeInstallTree(ws.install);
    const before = await hashTree(ws.install);
    const file = await craft(entries);

    await expect(restoreBackup({ backup: file, install: ws.install })).rejects.toMatchObject({
      code: 'UPLIFT_BACKUP_UNSAFE_ENTRY',
      unchanged: true,
    });

    expect((await hashTree(ws.install)).hash).toBe(before.hash);
    expect((await readdir(ws.root)).sort()).toEqual(['crafted.tar.gz', 'skiff']);
    await expect(verifyBackup(file)).rejects.toMatchObject({ code: 'UPLIFT_BACKUP_UNSAFE_ENTRY' });
  });
});

describe('restore should refuse what is behind a data link and write nothing if', () => {
  const planned = { entries: 1, files: 0, directories: 1, symlinks: 0, hardlinks: 0, bytes: 0 };
  it.each<[string, Crafted[]]>([
    ['an entry names a data link the header does not list', [{ name: 'behind/1/x', body: 'x' }]],
    ['an entry climbs out of the target', [{ name: 'behind/0/../escaped', body: 'x' }]],
    [
      'a hard link behind the link names a file of the tree',
      [
        { name: 'tree/a', body: 'x' },
        { name: 'behind/0/h', type: 'link', linkname: 'tree/a' },
      ],
    ],
    ['an entry comes before the target itself', [{ name: 'behind/0/x', body: 'x' }]],
  ])('%s', async (_why, entries) => {
    writeInstallTree(ws.install);
    const before = await hashTree(ws.install);
    const target = join(ws.root, 'disk2');
    const file = await craft(
      [
        { name: 'tree/db', type: 'symlink', linkname: target },
        ...(entries[0]?.name === 'behind/0/x'
          ? []
          : [{ name: 'behind/0/', type: 'directory' as const, mode: 0o755 }]),
        ...entries,
      ],
      {
        format: 'uplift-backup/2',
        behindLinks: [{ path: 'db', target, resolved: target, planned }],
      },
    );

    await expect(
      restoreBackup({ backup: file, install: ws.install, data: ['db'] }),
    ).rejects.toMatchObject({ code: 'UPLIFT_BACKUP_UNSAFE_ENTRY', unchanged: true });

    expect((await hashTree(ws.install)).hash).toBe(before.hash);
    expect((await readdir(ws.root)).sort()).toEqual(['crafted.tar.gz', 'skiff']);
  });
});
