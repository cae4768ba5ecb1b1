import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ReleaseInfo } from './release.ts';
import { libModules, releaseFiles } from './release-files.ts';
import { featuresFor, findRelease, releaseSlug } from './versions.ts';

/** `<out>/<slug>/manifest.json`, as products/skiff/layout.md defines it. */
export interface ReleaseManifest {
  product: 'skiff';
  version: string;
  files: { path: string; size: number; mode: number; sha256: string }[];
}

export interface ReleaseTree {
  /** `<out>/<slug>` */
  dir: string;
  /** `<out>/<slug>/tree` */
  tree: string;
  manifest: ReleaseManifest;
}

/** The compiled server modules; `npm run build` (or `tsc -p products/skiff/tsconfig.json`) makes them. */
const distDir = join(import.meta.dirname, '../dist');

function readLibModule(name: string): string {
  const file = join(distDir, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(`${file} is missing: build skiff first (npm run build)`);
  }
  return readFileSync(file, 'utf8');
}

/**
 * Builds the release tree of one skiff version into `<outDir>/<slug>/` (replacing an earlier
 * build). Deterministic: the same version gives the same bytes, modes and mtimes (the release
 * date) every time, so packs built from two trees differ only where the releases do.
 */
export function buildReleaseTree(version: string, outDir: string): ReleaseTree {
  const { date } = findRelease(version);
  const release: ReleaseInfo = { product: 'skiff', version, date, features: featuresFor(version) };
  const files = releaseFiles(release);
  for (const name of libModules(release)) {
    files.set(`lib/${name}.js`, { content: readLibModule(name), mode: 0o644 });
  }

  const dir = join(outDir, releaseSlug(version));
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const mtime = new Date(`${date}T00:00:00Z`);
  const paths = [...files.keys()].sort();
  const manifest: ReleaseManifest = { product: 'skiff', version, files: [] };
  const dirs = new Set<string>();
  for (const path of paths) {
    const { content, mode } = files.get(path) as { content: string; mode: number };
    const bytes = Buffer.from(content, 'utf8');
    const file = join(staging, 'tree', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bytes);
    chmodSync(file, mode);
    utimesSync(file, mtime, mtime);
    for (let d = dirname(path); d !== '.'; d = dirname(d)) dirs.add(d);
    manifest.files.push({
      path,
      size: bytes.length,
      mode,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  for (const d of [...dirs, '.']) {
    const p = join(staging, 'tree', d);
    chmodSync(p, 0o755);
    utimesSync(p, mtime, mtime);
  }
  writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  utimesSync(join(staging, 'manifest.json'), mtime, mtime);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  renameSync(staging, dir);
  return { dir, tree: join(dir, 'tree'), manifest };
}
