/**
 * `npx tsx tools/skiff-pack-sizes.ts [--write] [--json]`: builds every pack profiles/skiff/catalog.yaml
 * lists from skiff's release trees (products/skiff, `buildReleaseTree`) into a temp folder and
 * prints each entry's catalog size beside the built pack's size. `--write` puts the built sizes into
 * the catalog, changing nothing but those numbers (comments and layout stay). Exits 1 when a size
 * differs and `--write` was not given, 2 when an entry's pack cannot be built.
 *
 * Which pack an entry stands for follows from the catalog alone:
 * - the first pack of a platform in a release a manual step continues at is the full install after
 *   that step (docs/catalog.md, "Packs"), and so is a pack whose `from` admits more than one
 *   version (a range, `release:`, `*` or none): a delta applies only on top of the version it was
 *   built against (docs/pack-format.md, "Full and delta packs");
 * - every other pack names one version in `from` and is a delta against that version's tree.
 * A full pack is built against the oldest catalog release its `from` matches. Every pack carries
 * the catalog's `from` as its range, and the migrations of profiles/skiff/packs/<to-slug>/ when
 * there are any. The size does not depend on the signing key: an ed25519 signature envelope has
 * one length for every key, so a fresh key is used.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isScalar, parseDocument } from 'yaml';
import { buildReleaseTree, releaseSlug } from '../products/skiff/src/index.ts';
import { loadCatalog } from '../src/catalog/index.ts';
import { buildPack, type PackManifest } from '../src/pack/index.ts';
import { generateKeyPair } from '../src/signing/index.ts';

const repoRoot = resolve(import.meta.dirname, '..');
export const skiffCatalogFile = join(repoRoot, 'profiles/skiff/catalog.yaml');
const packInputs = join(repoRoot, 'profiles/skiff/packs');

/** One `packs:` entry of the catalog and the pack built for it. */
export interface SkiffPackSize {
  /** The release the pack reaches, and the entry's place in the file. */
  release: string;
  releaseIndex: number;
  packIndex: number;
  platform: string;
  file: string;
  from: string | undefined;
  kind: 'full' | 'delta';
  /** The version whose release tree the pack was built against. */
  base: string;
  catalogSize: number;
  size: number;
  manifest: PackManifest;
}

/**
 * Builds the pack of every `packs:` entry of the skiff catalog into `work` (release trees under
 * `work/releases`, packs under `work/packs`). Throws when an entry's pack cannot be built: its
 * `from` matches no release older than the one it reaches.
 */
export async function measureSkiffPacks(work: string): Promise<SkiffPackSize[]> {
  const loaded = await loadCatalog(skiffCatalogFile);
  const { scheme } = loaded;
  const releases = join(work, 'releases');
  const trees = new Set<string>();
  const treeOf = (version: string) => {
    if (!trees.has(version)) buildReleaseTree(version, releases);
    trees.add(version);
    return join(releases, releaseSlug(version));
  };
  const key = generateKeyPair().privateKey;
  const installsAfterManualStep = new Set(loaded.manualSteps.map((m) => m.continueAt));
  const sizes: SkiffPackSize[] = [];
  for (const [releaseIndex, release] of loaded.catalog.releases.entries()) {
    const seenPlatforms = new Set<string>();
    for (const [packIndex, pack] of (release.packs ?? []).entries()) {
      const pattern = loaded.packFrom.get(pack);
      const older = loaded.versions.filter(
        (v) => scheme.compare(v, release.version) < 0 && (pattern?.matches(v) ?? true),
      );
      const base = older[0];
      if (base === undefined)
        throw new Error(
          `releases[${releaseIndex}].packs[${packIndex}] (${pack.file}): its from (${pack.from ?? 'any version'}) matches no release older than ${release.version}, so no pack can be built from skiff's release trees`,
        );
      const installAfterStep =
        installsAfterManualStep.has(release.version) && !seenPlatforms.has(pack.platform);
      seenPlatforms.add(pack.platform);
      const delta = !installAfterStep && pattern?.exact !== undefined;
      const migrations = join(packInputs, releaseSlug(release.version), 'migrations.yaml');
      const built = await buildPack({
        fromTree: treeOf(base),
        toTree: treeOf(release.version),
        platform: pack.platform,
        delta,
        fromRange: pack.from ?? '*',
        key,
        out: join(work, 'packs', pack.file),
        ...(existsSync(migrations) ? { migrations } : {}),
      });
      sizes.push({
        release: release.version,
        releaseIndex,
        packIndex,
        platform: pack.platform,
        file: pack.file,
        from: pack.from,
        kind: delta ? 'delta' : 'full',
        base,
        catalogSize: pack.size,
        size: built.bytes,
        manifest: built.manifest,
      });
    }
  }
  return sizes;
}

/**
 * The catalog text with each measured entry's `size` replaced by the built size. Only the digits
 * of those values change: the edit goes by the source range of each size node, so comments, flow
 * maps and folded titles stay as they were written.
 */
export function withSizes(text: string, sizes: readonly SkiffPackSize[]): string {
  const doc = parseDocument(text);
  const edits: { start: number; end: number; value: string }[] = [];
  for (const s of sizes) {
    const node = doc.getIn(['releases', s.releaseIndex, 'packs', s.packIndex, 'size'], true);
    const file = doc.getIn(['releases', s.releaseIndex, 'packs', s.packIndex, 'file']);
    if (!isScalar(node) || !node.range || file !== s.file)
      throw new Error(
        `the catalog changed while the packs were built: ${s.file} is not where it was`,
      );
    edits.push({ start: node.range[0], end: node.range[1], value: String(s.size) });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return out;
}

async function main(args: string[]): Promise<number> {
  const write = args.includes('--write');
  const json = args.includes('--json');
  const work = mkdtempSync(join(tmpdir(), 'uplift-skiff-pack-sizes-'));
  try {
    let sizes: SkiffPackSize[];
    try {
      sizes = await measureSkiffPacks(work);
    } catch (err) {
      console.error(`error: ${(err as Error).message}`);
      return 2;
    }
    const differing = sizes.filter((s) => s.size !== s.catalogSize);
    if (json)
      console.log(
        JSON.stringify(
          sizes.map(({ manifest: _m, releaseIndex: _r, packIndex: _p, ...s }) => s),
          null,
          2,
        ),
      );
    else
      for (const s of sizes)
        console.log(
          [
            s.file.padEnd(48),
            `${s.kind} from ${s.base}`.padEnd(26),
            String(s.catalogSize).padStart(10),
            s.size === s.catalogSize ? ' =' : ' ->',
            String(s.size).padStart(7),
          ].join(' '),
        );
    if (write && differing.length > 0) {
      const text = readFileSync(skiffCatalogFile, 'utf8');
      writeFileSync(skiffCatalogFile, withSizes(text, differing));
      await loadCatalog(skiffCatalogFile);
    }
    const verb = write ? 'rewritten' : 'differ (run with --write)';
    console.error(`${sizes.length} packs built, ${differing.length} catalog sizes ${verb}`);
    return differing.length > 0 && !write ? 1 : 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = await main(process.argv.slice(2));
