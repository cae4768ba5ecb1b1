import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walk, walkSync } from './walk.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'uplift-walk-'));
  await mkdir(join(root, 'conf'));
  await mkdir(join(root, 'var/run'), { recursive: true });
  await writeFile(join(root, 'conf/app.yaml'), 'port: 80\n');
  await writeFile(join(root, 'var/run/app.pid'), '42\n');
  await writeFile(join(root, 'version'), '1.0\n');
  await writeFile(join(root, 'a-b'), '');
  await symlink('/', join(root, 'root-link'));
});
afterEach(async () => {
  await chmod(join(root, 'conf'), 0o755).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function paths(opts?: Parameters<typeof walk>[1]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walk(root, opts)) out.push(e.path);
  return out;
}

describe('walk', () => {
  it('lists in pre-order, children in code-unit order, without following symlinks', async () => {
    const entries = [...walkSync(root)].map((e) => [e.path, e.type]);

    expect(entries).toStrictEqual([
      ['a-b', 'file'],
      ['conf', 'directory'],
      ['conf/app.yaml', 'file'],
      ['root-link', 'symlink'],
      ['var', 'directory'],
      ['var/run', 'directory'],
      ['var/run/app.pid', 'file'],
      ['version', 'file'],
    ]);
    expect(await paths()).toStrictEqual(entries.map(([p]) => p));
  });

  it('gives size, permission bits and mtime from lstat', () => {
    const version = [...walkSync(root)].find((e) => e.path === 'version');

    expect(version).toMatchObject({ size: 4, type: 'file' });
    expect(version?.mode).toBe(version?.stats.mode ? version.stats.mode & 0o7777 : -1);
    expect(version?.mtimeMs).toBeGreaterThan(0);
  });

  it('skips by glob: dir/** leaves out the folder itself and does not enter it', async () => {
    expect(await paths({ skip: ['var/**', '**/*.yaml'] })).toStrictEqual([
      'a-b',
      'conf',
      'root-link',
      'version',
    ]);
  });

  it('prunes by predicate, and yields the root first when asked', async () => {
    const got = await paths({ includeRoot: true, prune: (e) => e.type === 'directory' });

    expect(got).toStrictEqual(['.', 'a-b', 'root-link', 'version']);
  });

  it.skipIf(process.getuid?.() === 0)(
    'reports an unreadable folder to onError and goes on; throws without a handler',
    async () => {
      await chmod(join(root, 'conf'), 0o000);
      const errors: string[] = [];

      const got = await paths({ onError: (p, err, op) => errors.push(`${op} ${p} ${err.code}`) });

      expect(got).toContain('conf');
      expect(got).not.toContain('conf/app.yaml');
      expect(got).toContain('version');
      expect(errors).toStrictEqual(['list conf EACCES']);
      expect(() => [...walkSync(root)]).toThrow(expect.objectContaining({ code: 'EACCES' }));
    },
  );

  it('reports a name that is not UTF-8', async () => {
    await writeFile(Buffer.from(`${root}/bad-\xff`, 'latin1'), '');
    const errors: string[] = [];

    const got = await paths({ onError: (p, err, op) => errors.push(`${op} ${p} ${err.code}`) });

    expect(got).toContain('version');
    expect(errors).toStrictEqual(['name bad-\xff EILSEQ']);
  });
});
