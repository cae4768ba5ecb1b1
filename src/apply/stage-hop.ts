import { execFile } from 'node:child_process';
import { link, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import { isBinary } from '../merge/index.ts';
import { type PackManifest, verifyPack } from '../pack/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { mapLimit, matchesAnyGlob } from '../util/index.ts';
import { type CarriedEntries, type CarryOptions, carryCustomerEntries, ownLike } from './carry.ts';
import { planMismatch } from './hop-steps.ts';
import { checkMigrationTargets, migrationDataGlobs } from './migrate.ts';
import { type StatePaths, versionSlug } from './paths.ts';
import { readVendorManifest } from './preflight.ts';
import { type StageResult, stageTree } from './stage.ts';
import { stageWritesInFlight } from './stage-queue.ts';
import { exists, hashFile, sha256Of, type VendorManifest } from './tree.ts';
import type { ApplyOptions } from './types.ts';

/**
 * What a hop does before its stop, shared by the real run (src/apply/methods/uplift-pack.ts) and
 * `--dry-run` (src/apply/dry-run.ts), so that the dry run predicts the real run: the same pack
 * checks, the same merge bases, the same merges and conflicts. The dry run chains hops on scratch
 * copies instead of the installation; nothing else differs.
 */

/** Where one hop is staged: `stage/pack` (the payload), `stage/tree`, `stage/vendor`, `stage/base`. */
export interface HopStaging {
  /** The installation the hop starts from (the dry run: the previous hop's staged tree). */
  install: string;
  stage: string;
  pack: string;
  tree: string;
}

export interface VerifiedPack {
  manifest: PackManifest;
  sha256: string;
  keyid: string;
}

/**
 * The hop's pack verified against the trust, the installed version and the plan (its SHA-256 and
 * target), staged into `s.pack`; its migrations may only name the profile's data.
 */
export async function verifyHopPack(
  o: ApplyOptions,
  step: PlanStep,
  file: string,
  s: HopStaging,
): Promise<VerifiedPack> {
  const dataGlobs = migrationDataGlobs(o.profile.manifest.paths);
  const r = await verifyPack(file, {
    trust: o.trust,
    install: { product: o.product, version: step.from as string, platform: o.platform },
    versionScheme: o.profile.catalog.scheme.id,
    stageInto: s.pack,
    dataGlobs,
    ...(o.maxExpand === undefined ? {} : { maxExpand: o.maxExpand }),
  });
  await checkMigrationTargets(s.install, r.manifest, dataGlobs);
  const want = step.pack?.sha256;
  const hint = 'Fetch the pack the plan names again.';
  if (want && want !== r.sha256)
    throw planMismatch(`${file} has SHA-256 ${r.sha256}, the plan names ${want}`, hint);
  if (r.manifest.to !== step.to)
    throw planMismatch(`${file} upgrades to ${r.manifest.to}, the plan's hop to ${step.to}`, hint);
  return { manifest: r.manifest, sha256: r.sha256, keyid: r.keyid };
}

/** Where the merge base of a hop came from, and why there was none when a merge needed one. */
export interface MergeBase {
  /** The installed version. */
  version: string;
  /** A pristine tree used: apply's own copy, the `--base-tree`, or the one the profile made. */
  pristine?: string;
  made?: string;
  /** Why the profile's `apply.releaseTree` gave no tree (absent, failed, another version). */
  unavailable?: string;
}

export interface StagedHop {
  staged: StageResult;
  base: MergeBase;
  /** Set when the hop staged without conflicts: the customer entries carried into the tree. */
  carry?: CarryOptions;
  carried?: CarriedEntries;
}

/**
 * Stages a hop while the service runs: the new version's vendor files with the customer's
 * changes merged (stageTree), and, when nothing conflicts, the new version's pristine files kept
 * in `stage/vendor` (the next hop's merge base) and the customer entries carried into the tree.
 * With conflicts it returns after stageTree; the caller reports them.
 *
 * The merge base of the installed version's files, in order: files the customer left as shipped;
 * `kept` (the dry run: the previous hop's `stage/vendor`), else apply's own `vendor/<version>`
 * from the last commit, else the `--base-tree`; and, only when a merge still lacks a base, the
 * release tree the profile's `apply.releaseTree` makes. Any file of these is used only when its
 * SHA-256 is the one the installation's vendor manifest records (stageTree's baseBytes).
 */
export async function stageHop(
  o: ApplyOptions,
  p: StatePaths,
  s: HopStaging,
  manifest: PackManifest,
  kept?: string,
): Promise<StagedHop> {
  const oldVendor = await readVendorManifest(s.install, o.vendorManifestPath, o.baseTree);
  const pristine = kept ?? (await pristineFor(p, oldVendor.version, o.baseTree));
  const base: MergeBase = { version: oldVendor.version, ...(pristine ? { pristine } : {}) };
  const staged = await stageTree({
    install: s.install,
    packDir: s.pack,
    tree: s.tree,
    manifest,
    vendorManifestPath: o.vendorManifestPath,
    oldVendor,
    ...(pristine ? { pristine } : {}),
    makePristine: async () => {
      const r = await makeReleaseTree(o, oldVendor, join(s.stage, 'base'));
      if ('why' in r) base.unavailable = r.why;
      else base.made = r.tree;
      return base.made;
    },
    configGlobs: o.profile.manifest.paths?.config ?? [],
    linkUnchanged: o.profile.manifest.apply?.linkUnchangedProgramFiles === true,
  });
  if (staged.conflicts.length > 0) return { staged, base };
  await keepPristine(
    s.tree,
    join(s.stage, 'vendor'),
    staged,
    [s.pack, pristine, base.made, s.install],
    o.profile.manifest.paths?.config ?? [],
  );
  // A linked file already has the installation's owner (stageTree links no other), and a chown
  // would reach the old generation through it.
  const linked = new Set(staged.inputs.filter((i) => i.linked).map((i) => i.path));
  await ownLike(
    s.tree,
    staged.newVendor.files.map((f) => f.path).filter((path) => !linked.has(path)),
    s.install,
  );
  const carry = carryOptions(o, s, staged);
  return { staged, base, carry, carried: await carryCustomerEntries(carry) };
}

/** The pristine vendor tree of `version`: apply's own copy, else the release tree given as `--base-tree`. */
async function pristineFor(
  p: StatePaths,
  version: string,
  baseTree?: string,
): Promise<string | undefined> {
  const own = join(p.vendor, versionSlug(version), 'tree');
  if (await exists(own)) return own;
  if (!baseTree) return undefined;
  const m = JSON.parse(await readFile(join(baseTree, 'manifest.json'), 'utf8')) as VendorManifest;
  if (m.version !== version)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--base-tree ${baseTree} is the release tree of ${m.version}, but the installation is ${version}`,
      {
        hint: `Give the release tree of ${version}.`,
        unchanged: true,
      },
    );
  return join(baseTree, 'tree');
}

/**
 * The installed version's release tree, made by the profile's `apply.releaseTree` command into
 * `out` (argv, no shell; `${node}`, `${profile}`, `${version}`, `${out}`), for a first apply on an
 * installation uplift never upgraded. Only the tree's files whose hashes match the installation's
 * vendor manifest become merge bases, so a command that makes something else does no harm.
 */
async function makeReleaseTree(
  o: ApplyOptions,
  installed: VendorManifest,
  out: string,
): Promise<{ tree: string } | { why: string }> {
  const command = o.profile.manifest.apply?.releaseTree;
  if (!command) return { why: `the profile ${o.profile.manifest.name} has no apply.releaseTree` };
  const vars: Record<string, string> = {
    node: process.execPath,
    profile: o.profile.dir,
    version: installed.version,
    out,
  };
  const argv = command.argv.map((a) =>
    a.replace(/\$\{(node|profile|version|out)\}/g, (_, name: string) => vars[name] as string),
  );
  const [program, ...args] = argv as [string, ...string[]];
  await rm(out, { recursive: true, force: true });
  await mkdir(dirname(out), { recursive: true });
  const failed = await new Promise<string | undefined>((done) => {
    execFile(
      program,
      args,
      {
        cwd: o.profile.dir,
        timeout: (command.timeoutSeconds ?? 120) * 1000,
        killSignal: 'SIGKILL',
        maxBuffer: 1 << 20,
      },
      (err, _stdout, stderr) =>
        done(
          err ? `${err.message.split('\n')[0]} ${String(stderr).trim().slice(-300)}` : undefined,
        ),
    );
  });
  if (failed) return { why: `apply.releaseTree failed: ${failed.trim()}` };
  try {
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as VendorManifest;
    if (m.version !== installed.version)
      return { why: `apply.releaseTree made ${m.version}, not ${installed.version}` };
  } catch (err) {
    return { why: `apply.releaseTree made no release tree: ${(err as Error).message}` };
  }
  return { tree: join(out, 'tree') };
}

/** What the carry of customer entries leaves out: every vendor path of the old and the new version. */
function carryOptions(o: ApplyOptions, s: HopStaging, staged: StageResult): CarryOptions {
  const vendorPaths = new Set<string>(staged.inputs.map((i) => i.path));
  for (const f of staged.newVendor.files) vendorPaths.add(f.path);
  return {
    install: s.install,
    tree: s.tree,
    vendorPaths,
    vendorManifestPath: o.vendorManifestPath,
    linkGlobs: o.profile.manifest.paths?.data ?? [],
    dropGlobs: o.profile.manifest.paths?.generated ?? [],
  };
}

/** Text files up to this size are kept as copies in the pristine tree; the rest are hard links. */
const pristineCopyMaxBytes = 8 << 20;

/**
 * Keeps the new version's vendor files that a later upgrade may merge, as they ship: the merge
 * bases. Those are the profile's configuration (`paths.config`; every file when it names none):
 * a customer change to any other vendor file that the vendor changes too is a conflict, never a
 * merge (stageTree), so its base is never read, and copying it would double staging's writes.
 * Text files are copied, so an operator's in-place edit of the installed file after the upgrade
 * (`>>` to a start script, `sed -i` keeps the inode too) cannot change the merge base; binary and
 * large files, which are never merged, are hard-linked to the staged file to save the space and
 * time. Every base is checked against its SHA-256 before use (stageTree's baseBytes), so a linked
 * file written in place later is a missing base, never a wrong one. The manifest lists every
 * vendor file of the version.
 */
async function keepPristine(
  tree: string,
  out: string,
  staged: StageResult,
  /**
   * Where else the vendor's bytes may be, by hash: the pack, the previous pristine tree, the
   * installation (a file behind a customer's link, which the staged tree does not hold).
   */
  sources: readonly (string | undefined)[],
  configGlobs: readonly string[],
): Promise<void> {
  await mkdir(join(out, 'tree'), { recursive: true, mode: 0o700 });
  const bases = staged.newVendor.files.filter(
    (f) => configGlobs.length === 0 || matchesAnyGlob(configGlobs, f.path),
  );
  const dirs = new Set(bases.map((f) => dirname(join(out, 'tree', f.path))));
  for (const dir of [...dirs].sort()) await mkdir(dir, { recursive: true });
  await mapLimit(bases, stageWritesInFlight, async (f) => {
    const dest = join(out, 'tree', f.path);
    const src = join(tree, f.path);
    const st = await lstat(src).catch(() => undefined);
    if (st?.isFile() && st.size === f.size) {
      if (f.size <= pristineCopyMaxBytes) {
        const bytes = await readFile(src);
        if (sha256Of(bytes) === f.sha256) {
          if (isBinary(bytes)) await link(src, dest);
          else await writeFile(dest, bytes, { mode: 0o600 });
          return;
        }
      } else if ((await hashFile(src)) === f.sha256) {
        await link(src, dest);
        return;
      }
    }
    // A merged file: the vendor's bytes are in the pack (changed in this version) or in the
    // previous pristine tree (unchanged since).
    for (const dir of sources) {
      if (!dir) continue;
      const from = join(dir, f.path);
      if ((await exists(from)) && (await hashFile(from)) === f.sha256) {
        await writeFile(dest, await readFile(from));
        break;
      }
    }
  });
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(staged.newVendor)}\n`);
}
