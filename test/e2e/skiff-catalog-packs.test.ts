import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildReleaseTree, releaseSlug } from '../../products/skiff/src/index.ts';
import { compilePattern, loadCatalog } from '../../src/catalog/index.ts';
import { buildPack } from '../../src/pack/index.ts';
import { generateKeyPair } from '../../src/signing/index.ts';
import {
  measureSkiffPacks,
  type SkiffPackSize,
  skiffCatalogFile,
  withSizes,
} from '../../tools/skiff-pack-sizes.ts';

/**
 * The sizes in profiles/skiff/catalog.yaml are those of the packs uplift builds from skiff's
 * release trees: every entry's pack is built here and its size compared, so the catalog cannot
 * drift from what skiff ships. `npx tsx tools/skiff-pack-sizes.ts --write` fixes a drift.
 */
let work: string;
let built: SkiffPackSize[];
const catalogText = readFileSync(skiffCatalogFile, 'utf8');
const entries = (
  parse(catalogText) as {
    releases: { version: string; packs?: { file: string; size: number; from?: string }[] }[];
  }
).releases.flatMap((r) => (r.packs ?? []).map((p) => ({ release: r.version, ...p })));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'uplift-skiff-catalog-packs-'));
  built = await measureSkiffPacks(work);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe("the skiff catalog's packs", () => {
  it('lists for every pack the size of the pack built from the release trees', () => {
    const sizes = built.map((b) => ({
      file: b.file,
      size: statSync(join(work, 'packs', b.file)).size,
    }));

    expect(entries.length).toBeGreaterThan(0);
    expect(
      sizes,
      "the catalog's pack sizes differ from the built packs (skiff's code or the pack format changed): run npx tsx tools/skiff-pack-sizes.ts --write",
    ).toEqual(entries.map((e) => ({ file: e.file, size: e.size })));
    expect(built.map((b) => b.size)).toEqual(sizes.map((s) => s.size));
  });

  it('each pack is the hop its entry names: target, platform and from-range', () => {
    for (const b of built) {
      const e = entries.find((x) => x.file === b.file);

      expect(b.manifest).toMatchObject({
        product: 'skiff',
        kind: b.kind,
        to: b.release,
        platform: b.platform,
        from: { range: e?.from ?? '*', version: b.base },
      });
    }
  });

  it('a delta serves exactly one version; a full pack deletes the old files of every version its range admits', async () => {
    const { scheme, versions } = await loadCatalog(skiffCatalogFile);
    const releases = join(work, 'releases');
    const filesOf = (v: string) => {
      const manifest = join(releases, releaseSlug(v), 'manifest.json');
      if (!existsSync(manifest)) buildReleaseTree(v, releases);
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as { files: { path: string }[] };
      return m.files.map((f) => f.path);
    };
    const fulls = built.filter((b) => b.kind === 'full');

    for (const b of built) {
      const range = compilePattern(b.manifest.from.range, scheme);
      if (typeof range === 'string') throw new Error(range);
      const admitted = versions.filter((v) => scheme.compare(v, b.release) < 0 && range.matches(v));
      if (b.kind === 'delta') {
        expect(admitted).toEqual([b.base]);
        continue;
      }
      expect(admitted[0]).toBe(b.base);
      const now = new Set(filesOf(b.release));
      const deleted = new Set(
        b.manifest.files.filter((f) => f.action === 'delete').map((f) => f.path),
      );
      for (const v of admitted)
        for (const path of filesOf(v)) if (!now.has(path)) expect(deleted).toContain(path);
    }
    expect(fulls.length).toBeGreaterThan(0);
  });

  it('the size does not depend on the key that signs the pack', async () => {
    const b = built.find((x) => x.kind === 'delta') as SkiffPackSize;
    const releases = join(work, 'releases');
    const sign = (n: number) =>
      buildPack({
        fromTree: join(releases, releaseSlug(b.base)),
        toTree: join(releases, releaseSlug(b.release)),
        platform: b.platform,
        delta: true,
        fromRange: b.manifest.from.range,
        key: generateKeyPair().privateKey,
        out: join(work, `key-${n}.upk`),
        fileSha256: true,
      });

    const [one, two] = [await sign(1), await sign(2)];

    expect(one.sha256).not.toBe(two.sha256);
    expect([one.bytes, two.bytes]).toEqual([b.size, b.size]);
  });

  it('--write changes the sizes and nothing else in the catalog text', () => {
    const bumped = built.map((b) => ({ ...b, size: b.size + 1000 }));

    const text = withSizes(catalogText, bumped);

    const before = catalogText.split('\n');
    const after = text.split('\n');
    expect(after).toHaveLength(before.length);
    const changed = after.filter((line, i) => line !== before[i]);
    expect(changed).toHaveLength(bumped.length);
    for (const line of changed) expect(line).toMatch(/^ {8}size: \d+$/);
    const files = (
      parse(text) as { releases: { packs?: { file: string; size: number }[] }[] }
    ).releases.flatMap((r) => r.packs ?? []);
    expect(files.map((p) => p.size)).toEqual(bumped.map((b) => b.size));
  });
});
