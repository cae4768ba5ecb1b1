import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeReleaseTree } from '../../test/util/pack-assemble.ts';
import { plainReleaseFile, ReleaseFile, readReleaseTree } from './release-tree.ts';

const good = { path: 'lib/server.js', size: 12, mode: 0o644, sha256: 'a'.repeat(64) };
const entries: [string, unknown][] = [
  ['a plain entry', good],
  ['an empty file of mode 0', { ...good, size: 0, mode: 0 }],
  ['the largest mode', { ...good, mode: 0o7777 }],
  ['a path of 4096 characters', { ...good, path: 'p'.repeat(4096) }],
  ['a path of 4097 characters', { ...good, path: 'p'.repeat(4097) }],
  ['an empty path', { ...good, path: '' }],
  ['a negative size', { ...good, size: -1 }],
  ['a fractional size', { ...good, size: 1.5 }],
  ['a size beyond safe integers', { ...good, size: 2 ** 53 }],
  ['a size as a string', { ...good, size: '12' }],
  ['a mode past 0o7777', { ...good, mode: 0o10000 }],
  ['a negative mode', { ...good, mode: -1 }],
  ['an upper-case hash', { ...good, sha256: 'A'.repeat(64) }],
  ['a hash one digit short', { ...good, sha256: 'a'.repeat(63) }],
  ['a hash with a newline after it', { ...good, sha256: `${'a'.repeat(64)}\n` }],
  ['an unknown key', { ...good, owner: 'root' }],
  ['a missing hash', { path: good.path, size: 1, mode: 0o644 }],
  ['a missing hash and an unknown key', { path: good.path, size: 1, mode: 0o644, x: 1 }],
  [
    'a __proto__ key from JSON',
    JSON.parse(`{"__proto__": {}, "path": "a", "size": 1, "mode": 420}`),
  ],
  ['a hash of undefined with four keys', { ...good, sha256: undefined }],
  ['null', null],
  ['an array', [good.path, good.size, good.mode, good.sha256]],
  ['a string', 'lib/server.js'],
];

describe('plainReleaseFile', () => {
  it.each(entries)('never accepts what ReleaseFile refuses: %s', (_, v) => {
    const zod = ReleaseFile.safeParse(v).success;

    if (plainReleaseFile(v)) expect(zod).toBe(true);
  });

  it('takes the common entries itself, so zod is not called for them', () => {
    expect(entries.slice(0, 4).map(([, v]) => plainReleaseFile(v))).toEqual([
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('readReleaseTree should refuse a manifest entry', () => {
  it.each([
    ['sha256', { sha256: 'A'.repeat(64) }, 'files[1].sha256'],
    ['size', { size: -3 }, 'files[1].size'],
    ['an unknown key', { owner: 'root' }, 'files[1]'],
  ])('with a bad %s, naming the field as zod does', async (_, change, field) => {
    const d = mkdtempSync(join(tmpdir(), 'uplift-release-tree-'));
    const dir = writeReleaseTree(join(d, 'r'), '5.4 GA', { 'a.txt': 'a\n', 'b.txt': 'b\n' });
    const file = join(dir, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.files[1] = { ...m.files[1], ...change };
    writeFileSync(file, JSON.stringify(m));

    const err = await readReleaseTree(dir).catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: 'UPLIFT_PACK_BUILD_INPUT',
      location: { file, path: field },
    });
    expect((err as Error).message).toContain(`${file}: ${field}: `);
  });
});
