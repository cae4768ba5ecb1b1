import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { walkInstallation } from './inventory.ts';
import { compareWithManifest, readManifest, type VendorManifest } from './manifest.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'uplift-manifest-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** An npm-like installation: a package's bin script and the links npm makes to it in .bin. */
async function npmTree(dir: string): Promise<VendorManifest> {
  await mkdir(join(dir, 'node_modules/.bin'), { recursive: true });
  await mkdir(join(dir, 'node_modules/tool/bin'), { recursive: true });
  await writeFile(join(dir, 'node_modules/tool/bin/tool.js'), 'run\n', { mode: 0o755 });
  await symlink('../tool/bin/tool.js', join(dir, 'node_modules/.bin/tool'));
  await symlink('../tool/bin/tool.js', join(dir, 'node_modules/.bin/tool-alias'));
  await symlink('../tool/bin/tool.js', join(dir, 'node_modules/.bin/gone'));
  return {
    product: 'p',
    version: '1.0.0',
    files: [{ path: 'node_modules/tool/bin/tool.js', size: 4, mode: 0o755, sha256: sha('run\n') }],
    symlinks: [
      { path: 'node_modules/.bin/tool', target: '../tool/bin/tool.js' },
      { path: 'node_modules/.bin/tool-alias', target: '../tool/bin/tool.js' },
      { path: 'node_modules/.bin/gone', target: '../tool/bin/tool.js' },
      { path: 'node_modules/.bin/file-now', target: '../tool/bin/tool.js' },
    ],
  };
}

describe('compareWithManifest with the symbolic links of a release manifest', () => {
  it('a vendor link with its target is as shipped; retargeted, replaced by a file or gone is reported', async () => {
    const manifest = await npmTree(root);
    await rm(join(root, 'node_modules/.bin/tool-alias'));
    await symlink('../elsewhere.js', join(root, 'node_modules/.bin/tool-alias'));
    await rm(join(root, 'node_modules/.bin/gone'));
    await writeFile(join(root, 'node_modules/.bin/file-now'), 'x\n');
    await symlink('../tool/bin/tool.js', join(root, 'node_modules/.bin/mine'));

    const { entries } = await walkInstallation(root);
    const c = await compareWithManifest(root, entries, manifest, []);

    expect(c).toEqual({
      changed: ['node_modules/.bin/file-now', 'node_modules/.bin/tool-alias'],
      added: ['node_modules/.bin/mine'],
      removed: ['node_modules/.bin/gone'],
      notes: {
        'node_modules/.bin/file-now': 'a file where the vendor ships a symbolic link',
        'node_modules/.bin/tool-alias': 'link target ../tool/bin/tool.js → ../elsewhere.js',
      },
    });
  });

  it('an installation equal to its release tree has no customized file', async () => {
    const manifest = await npmTree(root);
    await symlink('../tool/bin/tool.js', join(root, 'node_modules/.bin/file-now'));
    const { entries } = await walkInstallation(root);
    expect(await compareWithManifest(root, entries, manifest, [])).toEqual({
      changed: [],
      added: [],
      removed: [],
      notes: {},
    });
  });

  it('readManifest keeps the symlinks list and refuses a malformed one', async () => {
    const manifest = await npmTree(root);
    const file = join(root, 'manifest.json');
    await writeFile(file, JSON.stringify({ ...manifest, directories: [] }));
    expect((await readManifest(file))?.symlinks).toEqual(manifest.symlinks);
    await writeFile(file, JSON.stringify({ ...manifest, symlinks: [{ path: 'a' }] }));
    await expect(readManifest(file)).rejects.toThrow('symlinks[0]: expected { path, target }');
    await writeFile(file, JSON.stringify({ files: [] }));
    expect(await readManifest(file)).toEqual({ files: [] });
  });
});
