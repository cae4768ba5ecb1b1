import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReleaseTree, installRelease, listReleases, releaseSlug } from '../src/index.ts';
import { buildSkiff } from './build-skiff.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir('trees');
const versions = listReleases().map((r) => r.version);

beforeAll(() => buildSkiff());
afterAll(() => tmp.cleanup());

/** Every file under `dir` with its bytes' hash, mode and mtime: what "the same tree" means. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      const hash = st.isDirectory()
        ? '-'
        : createHash('sha256').update(readFileSync(p)).digest('hex');
      out.push(`${relative(dir, p)} ${(st.mode & 0o7777).toString(8)} ${st.mtimeMs} ${hash}`);
    }
  };
  walk(dir);
  return out;
}

describe('release trees', () => {
  it.each(versions)('builds %s the same way twice', (version) => {
    const first = buildReleaseTree(version, join(tmp.dir, 'a'));
    const second = buildReleaseTree(version, join(tmp.dir, 'b'));

    expect(first.dir).toBe(join(tmp.dir, 'a', releaseSlug(version)));
    expect(snapshot(first.dir)).toEqual(snapshot(second.dir));
    expect(readFileSync(join(first.dir, 'manifest.json'))).toEqual(
      readFileSync(join(second.dir, 'manifest.json')),
    );
  });

  it('writes a manifest that lists every file, sorted, with size, mode and sha256', () => {
    const { tree, dir, manifest } = buildReleaseTree('5.3.0 Patch 1', join(tmp.dir, 'm'));
    const onDisk = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

    expect(onDisk).toEqual(manifest);
    expect(Object.keys(onDisk)).toEqual(['product', 'version', 'files']);
    expect(manifest).toMatchObject({ product: 'skiff', version: '5.3.0 Patch 1' });
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    for (const f of manifest.files) {
      const bytes = readFileSync(join(tree, f.path));
      expect(f.size).toBe(bytes.length);
      expect(f.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(f.mode).toBe(f.path.startsWith('bin/') ? 0o755 : 0o644);
      expect(statSync(join(tree, f.path)).mode & 0o777).toBe(f.mode);
    }
    expect(paths).toEqual(
      expect.arrayContaining([
        'version',
        'bin/start_all',
        'bin/stop_all',
        'lib/server.js',
        'lib/release.json',
        'conf/skiff.properties',
        'conf/security.properties',
        'conf/accounts.json',
      ]),
    );
    expect(paths.some((p) => p.startsWith('var/') || p.startsWith('data/'))).toBe(false);
  });

  it.each`
    version            | present                     | absent
    ${'5.2.1 SP9'}     | ${'conf/crontab'}           | ${'conf/start-script.conf'}
    ${'5.3.0 Patch 1'} | ${'conf/start-script.conf'} | ${'conf/scheduler.yaml'}
    ${'5.4 Patch 2'}   | ${'lib/run-scheduler.js'}   | ${'conf/scheduler.yaml'}
    ${'5.5 GA'}        | ${'conf/scheduler.yaml'}    | ${'conf/crontab'}
  `('$version has $present and no $absent', ({ version, present, absent }) => {
    const { tree } = buildReleaseTree(version, join(tmp.dir, 'files'));

    expect(existsSync(join(tree, present))).toBe(true);
    expect(existsSync(join(tree, absent))).toBe(false);
    expect(readFileSync(join(tree, 'version'), 'utf8')).toBe(`${version}\n`);
  });

  it('ships the changed defaults of 5.5 GA in its configuration', () => {
    const old = buildReleaseTree('5.4 Patch 2', join(tmp.dir, 'conf')).tree;
    const ga55 = buildReleaseTree('5.5 GA', join(tmp.dir, 'conf')).tree;
    const read = (tree: string, f: string) => readFileSync(join(tree, f), 'utf8');

    expect(read(old, 'conf/security.properties')).toContain(
      '#tls.protocols=TLSv1.1,TLSv1.2,TLSv1.3',
    );
    expect(read(ga55, 'conf/security.properties')).toContain('#tls.protocols=TLSv1.2,TLSv1.3');
    expect(read(old, 'conf/skiff.properties')).not.toContain('Direct.Connection.When.Proxy.Down=');
    expect(read(ga55, 'conf/skiff.properties')).toContain(
      'Direct.Connection.When.Proxy.Down=false',
    );
    expect(read(ga55, 'conf/start-script.conf')).toContain('SCHEDULER_HEAP_MB=');
  });
});

describe('installRelease', () => {
  it.each`
    version            | tables
    ${'5.2.1 SP9'}     | ${['folder_quotas', 'transfers']}
    ${'5.3.0 Patch 1'} | ${['transfers']}
    ${'5.3.3 GA'}      | ${['file_tracking']}
    ${'5.5 GA'}        | ${['file_tracking']}
  `('installs $version with its database schema ($tables)', ({ version, tables }) => {
    const { tree } = buildReleaseTree(version, join(tmp.dir, 'rel'));
    const target = join(tmp.dir, `install-${releaseSlug(version)}`);

    const { install } = installRelease(tree, target);

    const db = new Database(join(install, 'var/db/skiff.db'), { readonly: true });
    const names = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all();
    db.close();
    expect(names).toEqual(tables);
    for (const d of ['var/run', 'var/log', 'var/db/hist', 'data'])
      expect(statSync(join(install, d)).isDirectory()).toBe(true);
    expect(readFileSync(join(install, '.skiff/manifest.json'))).toEqual(
      readFileSync(join(tree, '../manifest.json')),
    );
    const runtime = JSON.parse(readFileSync(join(install, '.skiff/runtime.json'), 'utf8'));
    expect(existsSync(join(runtime.nodeModules, 'better-sqlite3'))).toBe(true);
    expect(runtime.node).toBe(process.execPath);
    expect(statSync(join(install, 'bin/start_all')).mode & 0o777).toBe(0o755);
  });

  describe('should error and not write if', () => {
    it('the target exists', () => {
      const { tree } = buildReleaseTree('5.4 GA', join(tmp.dir, 'rel'));
      const target = join(tmp.dir, 'occupied');
      installRelease(tree, target);
      const before = snapshot(target);

      expect(() => installRelease(tree, target)).toThrow(
        expect.objectContaining({ code: 'SKIFF_NOT_EMPTY' }),
      );
      expect(snapshot(target)).toEqual(before);
    });

    it('a tree file does not match the manifest', () => {
      const { tree } = buildReleaseTree('5.4 GA', join(tmp.dir, 'tampered'));
      writeFileSync(join(tree, 'lib/server.js'), 'tampered');
      const target = join(tmp.dir, 'from-tampered');

      expect(() => installRelease(tree, target)).toThrow(/lib\/server.js does not match/);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(tmp.dir).filter((n) => n.startsWith('from-tampered'))).toEqual([]);
    });
  });
});
