import { createHash } from 'node:crypto';
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import {
  chmod,
  constants,
  copyFile,
  lchown,
  link,
  lstat,
  mkdir,
  open,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UpliftError } from '../errors/index.ts';
import type { PackManifest } from '../pack/index.ts';
import { backgroundFlusher, crashPoint, mapLimitEach, matchesAnyGlob } from '../util/index.ts';
import { type FileMerge, mergeFile } from './merge.ts';
import { stageWritesInFlight, writeQueue } from './stage-queue.ts';
import {
  hashFile,
  racyMarginMs,
  sha256Of,
  type VendorDirectory,
  type VendorFile,
  type VendorLink,
  type VendorManifest,
} from './tree.ts';

export interface StageInput {
  install: string;
  /** The pack's verified payload (verifyPack's stageInto). */
  packDir: string;
  /** The new installation to build; must not exist. */
  tree: string;
  manifest: PackManifest;
  /** Relative path of the vendor manifest inside an installation (the profile's detection.vendorManifest). */
  vendorManifestPath: string;
  /** The installed version's vendor manifest. */
  oldVendor: VendorManifest;
  /** A pristine tree of the installed version's vendor files (the merge base), when apply has one. */
  pristine?: string;
  /**
   * Makes a pristine tree when a merge needs a base that neither the installation nor `pristine`
   * holds (src/apply/stage-hop.ts: the profile's `apply.releaseTree`); called at most once.
   */
  makePristine?: () => Promise<string | undefined>;
  /**
   * The profile's `paths.config`: the vendor files a customer may edit, three-way merged. When
   * given, a customer change to any other vendor file that the new version also changes is a
   * conflict (program code is not merged line by line); empty or absent, every file is merged.
   */
  configGlobs?: readonly string[];
  /**
   * Hard-link the program files both sides left as they were from the installation instead of
   * copying them (docs/apply.md, "Staging: writes, links and durability"): off unless asked;
   * only where the profile names its configuration (`configGlobs`), never for configuration
   * files. Off by default because the old generation then shares those inodes: an operator's
   * in-place edit after the upgrade (`>>` to a start script) would reach the generation a
   * rollback returns to.
   */
  linkUnchanged?: boolean;
}

/**
 * What the customer side of one old vendor path looked like at staging: rechecked at the switch.
 * Old vendor symbolic links and empty directories are inputs too, so that every old vendor path
 * is known to the carry (which leaves vendor paths to staging).
 */
export interface StagedInput {
  path: string;
  /** A vendor file (absent), a symbolic link, or an empty directory (never rechecked). */
  kind?: 'symlink' | 'directory';
  /** For a symbolic link: its target at staging, or null when it was gone. */
  target?: string | null;
  sha256: string | null;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /**
   * The staged tree holds this very file (a hard link to the installed inode): whatever is
   * written into it in place lands in both, so the switch only checks that the installation still
   * has that inode at this path. The tree's link keeps the inode alive, so its number cannot be
   * reused by another file meanwhile.
   */
  linked?: true;
}

export interface StageResult {
  newVendor: VendorManifest;
  /** Every file whose outcome is not a plain take of the vendor's new file. */
  merges: Omit<FileMerge, 'content'>[];
  conflicts: FileMerge[];
  /** Conflicts that are only there because no merge base of the old vendor file was found. */
  missingBase: string[];
  inputs: StagedInput[];
  /** `Date.now()` before the inputs were read: an input changed around then is hashed again at the switch. */
  inputsReadAt: number;
  /**
   * Staged files whose bytes are the new version's as shipped (taken from the verified pack, or
   * the customer's file whose hash is the vendor's): the pristine tree need not hash them again.
   */
  asShipped: Set<string>;
  /** Config files whose installed content changes, with before and after (for --dry-run diffs). */
  changedConfig: { path: string; before: string; after: string }[];
  counts: { added: number; replaced: number; deleted: number; kept: number; merged: number };
}

/**
 * Builds the complete new vendor side of the installation in `tree` while the service still runs:
 * every vendor file of the new version, with the customer's changes carried forward by three-way
 * merge. Customer-only entries (data, var, customer files) are brought in at the switch.
 */
export async function stageTree(o: StageInput): Promise<StageResult> {
  const m = o.manifest;
  const old = new Map(o.oldVendor.files.map((f) => [f.path, f]));
  const pack = new Map(m.files.map((f) => [f.path, f]));
  if (m.kind === 'delta' && m.from.version !== o.oldVendor.version)
    throw new UpliftError(
      'UPLIFT_APPLY_BASE_MISMATCH',
      `the pack is a delta from ${m.from.version}, but the installation's vendor files are ${o.oldVendor.version}`,
      { hint: 'Use the pack the plan names for this hop, or a full pack.', unchanged: true },
    );
  for (const f of m.files) {
    if (f.action === 'add' || !f.was) continue;
    const base = old.get(f.path);
    if (base?.sha256 !== f.was)
      throw new UpliftError(
        'UPLIFT_APPLY_BASE_MISMATCH',
        `${f.path}: the pack expects the vendor file with SHA-256 ${f.was}, the installation's vendor manifest says ${base?.sha256 ?? 'absent'}`,
        {
          hint: 'The installation is not the version the pack was built from; plan again.',
          location: { file: join(o.install, o.vendorManifestPath), path: f.path },
          unchanged: true,
        },
      );
  }

  // The new version's vendor files, symbolic links and empty directories.
  const next = new Map<string, VendorFile>();
  if (m.kind === 'delta') for (const f of o.oldVendor.files) next.set(f.path, f);
  for (const f of m.files) {
    if (f.action === 'delete') next.delete(f.path);
    else next.set(f.path, { path: f.path, size: f.size, mode: f.mode, sha256: f.sha256 });
  }
  const oldLinks = new Map((o.oldVendor.symlinks ?? []).map((l) => [l.path, l]));
  const nextLinks = new Map<string, VendorLink>(m.kind === 'delta' ? oldLinks : []);
  for (const l of m.symlinks ?? []) {
    if (l.action === 'delete') nextLinks.delete(l.path);
    else nextLinks.set(l.path, { path: l.path, target: l.target });
  }
  const oldDirs = o.oldVendor.directories ?? [];
  const nextDirs = new Map<string, VendorDirectory>(
    m.kind === 'delta' ? oldDirs.map((d) => [d.path, d]) : [],
  );
  for (const d of m.directories ?? []) {
    if (d.action === 'delete') nextDirs.delete(d.path);
    else nextDirs.set(d.path, { path: d.path, mode: d.mode });
  }
  /** Whether the new version puts a link or a directory at `path` or at one of its parents. */
  const takenByNew = (path: string): boolean => {
    for (let p = path; p !== '.' && p !== ''; p = dirname(p))
      if (nextLinks.has(p) || (p === path && nextDirs.has(p))) return true;
    return false;
  };

  const linkOf = customerLinks(o.install, oldLinks);

  const inputsReadAt = Date.now();
  const inputs: StagedInput[] = [];
  const ours = new Map<string, StagedInput>();
  const owners = new Map<string, Owner>();
  // Hashed in parallel (reads on the thread pool overlap the hashing), and ahead of the writes
  // below, which take each path's input as soon as it is there: hashing the installation and
  // writing the new tree overlap. Decisions and reports still follow the manifest's order.
  const read = async (path: string) => {
    const r = await readInput(o.install, path);
    if (r.owner) owners.set(path, r.owner);
    return r.input;
  };
  const oldInputs = mapLimitEach(o.oldVendor.files, stageWritesInFlight, async (f) => {
    const input = await read(f.path);
    // A vendor file the customer replaced by a link: the link is the input (its target rechecked).
    const link = linkOf(f.path) === f.path ? await readLinkInput(o.install, f.path) : undefined;
    return { input, link };
  });
  const newPaths = [...next.keys()].filter((path) => !old.has(path));
  const newInputs = mapLimitEach(newPaths, stageWritesInFlight, read);
  const pending = new Map<string, Promise<StagedInput>>();
  o.oldVendor.files.forEach((f, k) => {
    const input = (oldInputs[k] as Promise<{ input: StagedInput }>).then((x) => x.input);
    // Awaited only when its path is reached: a staging that fails first leaves it unread.
    input.catch(() => {});
    pending.set(f.path, input);
  });
  newPaths.forEach((path, k) => {
    pending.set(path, newInputs[k] as Promise<StagedInput>);
  });
  /** The customer side of a vendor path of either version, once it is hashed. */
  const mineOf = async (path: string): Promise<StagedInput> => {
    const known = ours.get(path);
    if (known) return known;
    const input = await (pending.get(path) as Promise<StagedInput>);
    ours.set(path, input);
    return input;
  };
  // Old vendor links: the customer may have retargeted or removed one. A path where the customer
  // put something else than a link is the customer's own entry now: no input, so it is carried.
  const oursLinks = new Map<string, string | null>();
  const linkInputs: StagedInput[] = [];
  for (const l of oldLinks.values()) {
    const input = await readLinkInput(o.install, l.path);
    if (!input) continue;
    linkInputs.push(input);
    oursLinks.set(l.path, input.target ?? null);
  }

  let made: Promise<string | undefined> | undefined;
  // A base is only ever bytes whose SHA-256 is the old vendor manifest's for that path: never the
  // customer's edited file, whatever tree it comes from.
  const baseBytes = async (f: VendorFile): Promise<Buffer | null> => {
    const mine = pending.has(f.path) ? await mineOf(f.path) : undefined;
    if (mine?.sha256 === f.sha256) return readFile(join(o.install, f.path));
    const from = async (dir: string | undefined) => {
      if (!dir) return null;
      const b = await readFile(join(dir, f.path)).catch(() => null);
      return b && sha256Of(b) === f.sha256 ? b : null;
    };
    const kept = await from(o.pristine);
    if (kept || !o.makePristine) return kept;
    made ??= o.makePristine();
    return from(await made);
  };

  const r: StageResult = {
    newVendor: {
      product: o.oldVendor.product,
      version: m.to,
      files: [...next.values()].sort(byPath),
      ...(nextLinks.size > 0 ? { symlinks: [...nextLinks.values()].sort(byPath) } : {}),
      ...(nextDirs.size > 0 ? { directories: [...nextDirs.values()].sort(byPath) } : {}),
    },
    merges: [],
    conflicts: [],
    missingBase: [],
    inputs,
    inputsReadAt,
    asShipped: new Set(),
    changedConfig: [],
    counts: { added: 0, replaced: 0, deleted: 0, kept: 0, merged: 0 },
  };
  await mkdir(o.tree, { mode: 0o755 });
  const madeDirs = new Set<string>();
  const ensureDir = async (rel: string) => {
    const d = dirname(rel);
    if (d === '.' || madeDirs.has(d)) return;
    await mkdir(join(o.tree, d), { recursive: true, mode: 0o755 });
    madeDirs.add(d);
  };
  const note = (fm: FileMerge) => {
    const { content: _c, ...rest } = fm;
    r.merges.push(rest);
  };
  /** The customer's link at `path`, carried into the tree as the link (same target text). */
  const linkLike = async (path: string) => {
    await ensureDir(path);
    const src = join(o.install, path);
    const dest = join(o.tree, path);
    await symlink(await readlink(src), dest);
    if (process.getuid?.() === 0) {
      const st = await lstat(src);
      await lchown(dest, st.uid, st.gid);
    }
  };

  const queue = writeQueue(stageWritesInFlight);
  // The disk starts on the staged tree while it is written; the caller's syncTree makes it durable.
  const flusher = backgroundFlusher(o.tree);
  const owner = process.getuid?.() === 0 ? await lstat(o.install) : undefined;
  const uid = owner?.uid ?? process.getuid?.();
  const gid = owner?.gid ?? process.getgid?.();
  const linkUnchanged =
    o.linkUnchanged === true && o.configGlobs !== undefined && o.configGlobs.length > 0;
  /**
   * Whether the installed file can be the staged file itself (a hard link): a program file
   * (outside the profile's configuration), as the new version ships it, with the mode and owner a
   * copy would get, so that nothing staging or the switch does to it touches the old generation.
   */
  const mayLink = (f: VendorFile, mine: StagedInput): boolean => {
    if (!linkUnchanged || mine.sha256 !== f.sha256) return false;
    if (matchesAnyGlob(o.configGlobs ?? [], f.path)) return false;
    const st = owners.get(f.path);
    return st !== undefined && st.mode === f.mode && st.uid === uid && st.gid === gid;
  };
  const midway = Math.floor(r.newVendor.files.length / 2);
  try {
    for (const [k, f] of r.newVendor.files.entries()) {
      // Writes of the first half are under way, none is flushed: a kill here must leave a staging
      // that nothing uses (docs/apply.md, "Staging: writes, links and durability").
      if (k === midway) crashPoint('stage:writing');
      const base = old.get(f.path) ?? null;
      const mine = await mineOf(f.path);
      const fromPack = pack.has(f.path) && pack.get(f.path)?.action !== 'delete';
      const via = linkOf(f.path);
      if (via !== undefined) {
        const fm = await throughLink(o, { file: f, base, via, fromPack, baseBytes });
        note(fm);
        if (fm.outcome === 'conflict') r.conflicts.push(fm);
        else if (via === f.path) await linkLike(f.path);
        continue;
      }
      const dest = join(o.tree, f.path);
      await ensureDir(f.path);
      const src = join(o.install, f.path);
      const takeTheirs = async () => {
        r.asShipped.add(f.path);
        flusher.wrote(f.size);
        if (!base) r.counts.added++;
        else if (base.sha256 !== f.sha256) r.counts.replaced++;
        if (!fromPack && mayLink(f, mine)) {
          await queue.add(async () => {
            if (await linkInstalled(src, dest, mine)) return;
            await copyFile(src, dest, constants.COPYFILE_FICLONE);
            await chmod(dest, f.mode);
          });
          return;
        }
        await queue.add(async () => {
          // Verification staged it with the manifest's mode (src/pack/verify.ts).
          if (fromPack) return rename(join(o.packDir, f.path), dest);
          // A copy gets the installed file's mode (copyFile sets it): only another one is set.
          // Changed between the hash and the copy, the file's ctime tells the switch's check.
          await copyFile(src, dest, constants.COPYFILE_FICLONE);
          if (owners.get(f.path)?.mode !== f.mode) await chmod(dest, f.mode);
        });
      };
      // The customer's file as it is, its mode included (copyFile sets the copy's).
      const keepOurs = async () => {
        r.counts.kept++;
        flusher.wrote(f.size);
        await queue.add(() => copyFile(src, dest, constants.COPYFILE_FICLONE));
      };
      if (mine.sha256 === null) {
        if (base) {
          // The customer deleted a vendor file: it stays deleted.
          note({
            path: f.path,
            outcome: 'keep-deleted',
            content: null,
            conflicts: [],
            notes: ['the customer deleted this vendor file; it stays deleted'],
          });
          continue;
        }
        await takeTheirs();
        continue;
      }
      if (base && mine.sha256 === base.sha256) {
        await takeTheirs();
        continue;
      }
      if (mine.sha256 === f.sha256 || (base && base.sha256 === f.sha256)) {
        if (mine.sha256 === f.sha256) r.asShipped.add(f.path);
        await keepOurs();
        note({
          path: f.path,
          outcome: 'keep-ours',
          content: null,
          conflicts: [],
          notes: [
            base
              ? "the vendor did not change this file; the customer's file is kept"
              : "the customer's file equals the new vendor file",
          ],
        });
        continue;
      }
      // Both changed: a three-way merge needs the old vendor bytes.
      if (o.configGlobs && o.configGlobs.length > 0 && !matchesAnyGlob(o.configGlobs, f.path)) {
        const fm: FileMerge = {
          path: f.path,
          outcome: 'conflict',
          content: fromPack ? await readFile(join(o.packDir, f.path)) : null,
          conflicts: [
            {
              where: 'file',
              message:
                "the customer changed this vendor file and the new version changes it too, but it is not configuration (the profile's paths.config): uplift does not merge it",
            },
          ],
          notes: [],
        };
        note(fm);
        r.conflicts.push(fm);
        continue;
      }
      const oursBytes = await readFile(join(o.install, f.path));
      const theirsBytes = fromPack
        ? await readFile(join(o.packDir, f.path))
        : ((await baseBytes(f)) ?? Buffer.alloc(0));
      const baseContent = base ? await baseBytes(base) : null;
      let fm: FileMerge;
      if (base && baseContent === null) {
        // Never merged without its base, but the proposed file is the customer's with what the new
        // version adds: merged against an empty base, every key or line the customer has stays.
        const proposal = mergeFile({
          path: f.path,
          base: null,
          ours: oursBytes,
          theirs: theirsBytes,
        });
        fm = {
          path: f.path,
          outcome: 'conflict',
          content: proposal.content ?? oursBytes,
          conflicts: [
            {
              where: 'file',
              message: `both the customer and the vendor changed this file, and the old vendor file (${o.oldVendor.version}) is not available as the merge base; the proposed file keeps the customer's settings and adds what ${m.to} adds`,
            },
          ],
          notes: proposal.notes,
        };
        r.missingBase.push(f.path);
      } else
        fm = mergeFile({ path: f.path, base: baseContent, ours: oursBytes, theirs: theirsBytes });
      note(fm);
      if (fm.outcome === 'conflict') {
        r.conflicts.push(fm);
        continue;
      }
      if (fm.outcome === 'keep-ours' || fm.outcome === 'orphaned') {
        await keepOurs();
        continue;
      }
      if (fm.outcome === 'keep-deleted' || fm.outcome === 'delete' || fm.content === null) continue;
      await writeFile(dest, fm.content, { mode: 0o600, flag: 'wx' });
      await chmod(dest, (await lstat(join(o.install, f.path))).mode & 0o7777);
      r.counts.merged++;
      if (fm.outcome === 'merged')
        r.changedConfig.push({
          path: f.path,
          before: oursBytes.toString('utf8'),
          after: fm.content.toString('utf8'),
        });
    }
  } finally {
    // Never leave writes running into a tree the caller is about to remove.
    await queue.drain();
    await flusher.stop();
  }
  // Every input, in the vendor manifest's order: old files (or the customer's link in place of
  // one), old links, old empty directories.
  for (const [k, x] of (await Promise.all(oldInputs)).entries()) {
    const f = o.oldVendor.files[k] as VendorFile;
    inputs.push(x.link ?? x.input);
    ours.set(f.path, x.input);
  }
  inputs.push(...linkInputs);
  for (const d of oldDirs) inputs.push({ ...absent(d.path), kind: 'directory' });

  // Vendor files the new version drops.
  for (const f of o.oldVendor.files) {
    if (next.has(f.path)) continue;
    const via = linkOf(f.path);
    if (via !== undefined) {
      if (via === f.path) await linkLike(f.path);
      note({
        path: f.path,
        outcome: 'keep-ours',
        content: null,
        conflicts: [],
        notes: [
          `${m.to} no longer ships this file; it is reached through the customer's link ${via}, which is carried as the link: what is behind it stays as it is`,
        ],
      });
      continue;
    }
    const mine = ours.get(f.path) as StagedInput;
    if (mine.sha256 === null || mine.sha256 === f.sha256) {
      if (mine.sha256 !== null) r.counts.deleted++;
      continue;
    }
    if (takenByNew(f.path)) {
      // The path (or a parent) becomes a link or a directory of the new version.
      note({
        path: f.path,
        outcome: 'delete',
        content: null,
        conflicts: [],
        notes: [
          `${m.to} ships a symbolic link or directory in place of this file; the customer's changed copy is not kept (the backup holds it)`,
        ],
      });
      r.counts.deleted++;
      continue;
    }
    // Changed by the customer: kept where it is, as the customer's own file, and reported.
    await ensureDir(f.path);
    await copyFile(join(o.install, f.path), join(o.tree, f.path), constants.COPYFILE_FICLONE);
    await chmod(join(o.tree, f.path), (await lstat(join(o.install, f.path))).mode & 0o7777);
    note({
      path: f.path,
      outcome: 'orphaned',
      content: null,
      conflicts: [],
      notes: [`${m.to} no longer ships this file; the customer's changed copy is kept as it is`],
    });
  }
  const oldDirPaths = new Set(oldDirs.map((d) => d.path));
  for (const path of [...nextLinks.keys(), ...nextDirs.keys()]) {
    const via = linkOf(path);
    if (via === undefined) continue;
    nextLinks.delete(path);
    nextDirs.delete(path);
    const there = await lstat(join(o.install, path)).catch(() => undefined);
    if (there) continue; // Something is there already: the customer's, behind the link.
    const fm: FileMerge = {
      path,
      outcome: 'conflict',
      content: null,
      conflicts: [{ where: 'file', message: throughLinkMessage(via, m.to) }],
      notes: [],
    };
    note(fm);
    r.conflicts.push(fm);
  }
  await stageLinks(o, r, {
    oldLinks,
    nextLinks,
    oursLinks,
    ensureDir,
    note,
    wasVendor: (path) => old.has(path) || oldDirPaths.has(path),
  });
  for (const d of nextDirs.values()) {
    const dest = join(o.tree, d.path);
    if (await lstat(dest).catch(() => undefined)) continue; // Also holds files: already made.
    await ensureDir(d.path);
    await mkdir(dest, { mode: 0o700 });
    await chmod(dest, d.mode);
    if (process.getuid?.() === 0) {
      const top = await lstat(o.install);
      await lchown(dest, top.uid, top.gid);
    }
  }
  for (const d of madeDirs) {
    const st = await lstat(join(o.install, d)).catch(() => undefined);
    if (st?.isDirectory()) await chmod(join(o.tree, d), st.mode & 0o7777);
  }
  await ensureDir(o.vendorManifestPath);
  const { product, version, files, symlinks, directories } = r.newVendor;
  await writeFile(
    join(o.tree, o.vendorManifestPath),
    `${JSON.stringify({ product, version, files, ...(symlinks ? { symlinks } : {}), ...(directories ? { directories } : {}) }, null, 2)}\n`,
    { mode: 0o644 },
  );
  return r;
}

/**
 * The new version's symbolic links, with the customer's changes carried as for files: a link the
 * customer retargeted stays retargeted while the vendor keeps its target, a link the customer
 * removed stays removed, a retargeted link the new version drops stays as the customer's. When
 * both changed the target, the vendor's wins (a link has no content to merge) and it is reported.
 * Targets come from the verified manifest (checked inside the tree) or from the installation.
 */
async function stageLinks(
  o: StageInput,
  r: StageResult,
  s: {
    oldLinks: ReadonlyMap<string, VendorLink>;
    nextLinks: ReadonlyMap<string, VendorLink>;
    oursLinks: ReadonlyMap<string, string | null>;
    ensureDir: (rel: string) => Promise<void>;
    note: (fm: FileMerge) => void;
    /** An old vendor file or directory: what is there is the vendor's, and the link replaces it. */
    wasVendor: (path: string) => boolean;
  },
): Promise<void> {
  const owner = process.getuid?.() === 0 ? await lstat(o.install) : undefined;
  const make = async (path: string, target: string) => {
    await s.ensureDir(path);
    const dest = join(o.tree, path);
    await symlink(target, dest);
    if (owner) await lchown(dest, owner.uid, owner.gid);
  };
  const note = (path: string, outcome: FileMerge['outcome'], text: string) =>
    s.note({ path, outcome, content: null, conflicts: [], notes: [text] });
  for (const l of s.nextLinks.values()) {
    const base = s.oldLinks.get(l.path);
    if (base && !s.oursLinks.has(l.path)) {
      note(l.path, 'keep-ours', 'the customer replaced this symbolic link; their entry is kept');
      continue;
    }
    const mine = s.oursLinks.get(l.path);
    if (!base) {
      const there = await lstat(join(o.install, l.path)).catch(() => undefined);
      if (there && !s.wasVendor(l.path)) {
        note(l.path, 'keep-ours', 'the customer already has an entry here; it is kept');
        continue;
      }
      await make(l.path, l.target);
      r.counts.added++;
      continue;
    }
    if (mine === null) {
      note(l.path, 'keep-deleted', 'the customer deleted this symbolic link; it stays deleted');
      continue;
    }
    if (mine === base.target || mine === l.target) {
      await make(l.path, l.target);
      if (base.target !== l.target) r.counts.replaced++;
      continue;
    }
    if (base.target === l.target) {
      await make(l.path, mine as string);
      r.counts.kept++;
      note(
        l.path,
        'keep-ours',
        'the vendor did not change this link; the customer’s target is kept',
      );
      continue;
    }
    await make(l.path, l.target);
    r.counts.replaced++;
    note(
      l.path,
      'take-theirs',
      `the customer pointed this link at ${JSON.stringify(mine)}; ${r.newVendor.version} points it at ${JSON.stringify(l.target)}, which wins`,
    );
  }
  for (const l of s.oldLinks.values()) {
    if (s.nextLinks.has(l.path) || !s.oursLinks.has(l.path)) continue;
    const mine = s.oursLinks.get(l.path);
    if (mine === null) continue;
    if (mine === l.target || (await lstat(join(o.tree, l.path)).catch(() => undefined))) {
      r.counts.deleted++;
      continue;
    }
    await make(l.path, mine as string);
    note(
      l.path,
      'orphaned',
      `${r.newVendor.version} no longer ships this link; the customer's retargeted link is kept`,
    );
  }
}

/**
 * Finds the customer's link a path is reached through: the path itself or one of its folders is
 * a symbolic link that is not the old version's (`vendorLinks`). The link is the customer's
 * entry: carried as the link, never followed to write, never replaced by a folder.
 */
function customerLinks(
  install: string,
  vendorLinks: ReadonlyMap<string, unknown>,
): (path: string) => string | undefined {
  const isLink = new Map<string, boolean>();
  return (path) => {
    const parts = path.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      let link = isLink.get(p);
      if (link === undefined) {
        let st: Stats | undefined;
        try {
          st = lstatSync(join(install, p));
        } catch {
          st = undefined;
        }
        link = st?.isSymbolicLink() === true && !vendorLinks.has(p);
        isLink.set(p, link);
      }
      if (link) return p;
    }
    return undefined;
  };
}

const throughLinkMessage = (via: string, version: string) =>
  `${version} changes what is reached through the customer's link ${via}, and uplift never writes through a customer's link: make the change behind the link yourself (the proposed file has it), or put a real file or folder in place of the link, then run the same apply command again`;

/**
 * A new vendor file reached through a customer's link. Nothing is written: the link is carried
 * and what is behind it stays the customer's. That is fine when the new version does not change
 * the file, or when what is behind the link already has the new version's content (equal, or a
 * three-way merge that leaves it as it is); otherwise the pack's change cannot be carried, and
 * it is a conflict whose proposed file is the merge (or the new vendor file).
 */
async function throughLink(
  o: StageInput,
  x: {
    file: VendorFile;
    base: VendorFile | null;
    via: string;
    fromPack: boolean;
    baseBytes: (f: VendorFile) => Promise<Buffer | null>;
  },
): Promise<FileMerge> {
  const { file: f, base, via } = x;
  const ok = (outcome: FileMerge['outcome'], why: string): FileMerge => ({
    path: f.path,
    outcome,
    content: null,
    conflicts: [],
    notes: [`reached through the customer's link ${via}, which is carried as the link: ${why}`],
  });
  const behind = await readFile(join(o.install, f.path)).catch(() => null);
  if (behind && sha256Of(behind) === f.sha256)
    return ok('keep-ours', "what is behind it is already the new version's file");
  if (base && base.sha256 === f.sha256)
    return ok('keep-ours', 'the new version does not change this file');
  if (!behind && base) return ok('keep-deleted', 'nothing is behind it; it stays so');
  const theirs = x.fromPack ? await readFile(join(o.packDir, f.path)) : null;
  let proposed: Buffer | null = theirs;
  if (behind && base && theirs) {
    const baseContent = await x.baseBytes(base);
    if (baseContent) {
      const fm = mergeFile({ path: f.path, base: baseContent, ours: behind, theirs });
      if (fm.outcome === 'keep-ours')
        return ok('keep-ours', "the new version's changes are already behind it");
      proposed = fm.content ?? theirs;
    }
  }
  return {
    path: f.path,
    outcome: 'conflict',
    content: proposed,
    conflicts: [{ where: 'file', message: throughLinkMessage(via, o.manifest.to) }],
    notes: [],
  };
}

function byPath(a: { path: string }, b: { path: string }): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

const absent = (path: string): StagedInput => ({
  path,
  sha256: null,
  size: 0,
  mtimeMs: 0,
  ctimeMs: 0,
  ino: 0,
});

/** An old vendor link's customer side, or undefined when something else than a link is there. */
async function readLinkInput(install: string, path: string): Promise<StagedInput | undefined> {
  const abs = join(install, path);
  const st = await lstat(abs).catch(() => undefined);
  if (!st) return { ...absent(path), kind: 'symlink', target: null };
  if (!st.isSymbolicLink()) return undefined;
  return {
    path,
    kind: 'symlink',
    target: await readlink(abs),
    sha256: null,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
  };
}

interface Owner {
  mode: number;
  uid: number;
  gid: number;
}

/** Read buffers of the installation's hashing, reused: one per read under way. */
const hashBuffers: Buffer[] = [];
const hashBufferBytes = 1 << 20;

/**
 * SHA-256 of an installed file through a reused buffer: a fresh buffer per file (readFile) made
 * the hashing of 20,000 files allocate the whole gigabyte again, page by page. Reads go on to the
 * end of the file; a short read once `size` (its lstat) is reached is that end, so a file that fits
 * the buffer costs one read.
 */
async function hashInstalled(abs: string, size: number): Promise<string> {
  const buf = hashBuffers.pop() ?? Buffer.allocUnsafeSlow(hashBufferBytes);
  try {
    const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const hash = createHash('sha256');
      for (let total = 0; ; ) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (total >= size && bytesRead < buf.length) break;
      }
      return hash.digest('hex');
    } finally {
      await fh.close();
    }
  } finally {
    hashBuffers.push(buf);
  }
}

async function readInput(
  install: string,
  path: string,
): Promise<{ input: StagedInput; owner?: Owner }> {
  const abs = join(install, path);
  try {
    const st = await lstat(abs);
    if (!st.isFile()) return { input: absent(path) };
    const sha256 = await hashInstalled(abs, st.size);
    return {
      input: {
        path,
        sha256,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        ino: st.ino,
      },
      owner: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid },
    };
  } catch {
    return { input: absent(path) };
  }
}

/**
 * Hard-links the installed file into the staged tree when it is still the inode that was hashed;
 * false when it cannot (another filesystem, too many links, the file replaced since): the caller
 * copies instead. The input then says `linked`, for the switch's check.
 */
async function linkInstalled(src: string, dest: string, input: StagedInput): Promise<boolean> {
  try {
    await link(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EXDEV' || code === 'EMLINK' || code === 'EPERM' || code === 'ENOENT')
      return false;
    throw err;
  }
  const st = await lstat(dest);
  if (st.ino === input.ino && st.size === input.size && st.mtimeMs === input.mtimeMs) {
    input.linked = true;
    return true;
  }
  // Replaced or written since it was hashed: the switch's check sees that; copy as before.
  await rm(dest, { force: true });
  return false;
}

/**
 * The paths whose customer side changed since staging. Cheap, inside the downtime: one lstat per
 * path (synchronous: nothing else runs then, and it is several times faster than a promise each);
 * only a file whose stat moved, or that changed within the filesystem clock's reach of the
 * staging read (`readAt`, where a change can leave the stat as it was), is hashed again.
 */
export async function changedSinceStaging(
  install: string,
  inputs: readonly StagedInput[],
  readAt: number,
): Promise<string[]> {
  const changed: string[] = [];
  for (const i of inputs) {
    if (i.kind === 'directory') continue;
    const abs = join(install, i.path);
    let st: Stats | undefined;
    try {
      st = lstatSync(abs);
    } catch {
      st = undefined;
    }
    if (i.kind === 'symlink') {
      const now = st?.isSymbolicLink() ? readlinkSync(abs) : st ? undefined : null;
      if (now !== i.target) changed.push(i.path);
      continue;
    }
    if (i.linked) {
      // Same inode: the staged tree has whatever is in it now (StagedInput.linked).
      if (st?.isFile() !== true || st.ino !== i.ino) changed.push(i.path);
      continue;
    }
    const isFile = st?.isFile() === true;
    if (!st || !isFile) {
      if (i.sha256 !== null) changed.push(i.path);
      continue;
    }
    if (i.sha256 === null) {
      changed.push(i.path);
      continue;
    }
    if (
      st.size === i.size &&
      st.mtimeMs === i.mtimeMs &&
      st.ctimeMs === i.ctimeMs &&
      st.ino === i.ino &&
      i.ctimeMs < readAt - racyMarginMs
    )
      continue;
    if ((await hashFile(abs)) !== i.sha256) changed.push(i.path);
  }
  return changed;
}
