import { link, lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UpliftError } from '../../errors/index.ts';
import { isBinary } from '../../merge/index.ts';
import { type PackManifest, verifyPack } from '../../pack/index.ts';
import { crashPoint, fsyncDir, syncTree } from '../../util/index.ts';
import {
  type CarriedEntries,
  type CarryOptions,
  carryChangesSince,
  carryCustomerEntries,
  ownLike,
} from '../carry.ts';
import {
  backupStep,
  commitStep,
  type HopContext,
  hopEvents,
  planMismatch,
  postSwitchSteps,
  probeStep,
  type RollbackContext,
  type RollbackOutcome,
  rollBack,
  smokeStep,
  startStep,
  stopStep,
  timed,
} from '../hop-steps.ts';
import {
  dataLinks,
  keepLinkedData,
  keepWithGeneration,
  linkedDataBeside,
  restoreLinkedData,
} from '../linked-data.ts';
import { checkMigrationTargets, migrationDataGlobs, runHooks, runMigrations } from '../migrate.ts';
import { hopPaths, type StatePaths, versionSlug } from '../paths.ts';
import { readVendorManifest } from '../preflight.ts';
import { changedSinceStaging, type StageResult, stageTree } from '../stage.ts';
import { exists, hashFile, sha256Of, type VendorManifest } from '../tree.ts';
import type { ApplyOptions } from '../types.ts';

/**
 * The `uplift-pack` hop method: uplift's own signed packs. verify → stage (the new version built
 * beside the installation while the service runs, the customer's changes merged and carried) →
 * backup → stop → switch (two renames) → migrate (+ the profile's post-switch steps) → start →
 * probe (readiness and stability) → smoke → commit. See docs/apply.md.
 */

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

function wrapStageError(err: unknown, where: string): unknown {
  if (err instanceof UpliftError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOSPC' || e.code === 'EDQUOT' || e.code === 'EFBIG')
    return new UpliftError('UPLIFT_APPLY_NO_SPACE', `${where}: ${e.message}`, {
      cause: err,
      hint: 'Free space beside the installation (the new version is prepared there), then run uplift apply again.',
      unchanged: true,
    });
  return new UpliftError('UPLIFT_APPLY_STAGE_FAILED', `${where}: ${e.message}`, {
    cause: err,
    hint: 'Fix the cause, then run uplift apply again; the installation was not changed.',
    unchanged: true,
  });
}

/**
 * The installation's links the profile declares as data (`paths.data`; a pack's migrations may
 * name a database through them), from what the carry listed.
 */
function linkedDataOf(o: ApplyOptions, carried: CarriedEntries | undefined): string[] {
  const paths = o.profile.manifest.paths as
    | { data?: readonly string[]; databases?: readonly string[] }
    | undefined;
  const links = [...(carried?.entries ?? [])].filter(([, s]) => s.how === 'symlink');
  return dataLinks(
    links.map(([path]) => path),
    [...(paths?.data ?? []), ...(paths?.databases ?? [])],
  );
}

/** What the carry of customer entries leaves out: every vendor path of the old and the new version. */
function carryOptions(o: ApplyOptions, tree: string, staged: StageResult): CarryOptions {
  const vendorPaths = new Set<string>(staged.inputs.map((i) => i.path));
  for (const f of staged.newVendor.files) vendorPaths.add(f.path);
  return {
    install: o.install,
    tree,
    vendorPaths,
    vendorManifestPath: o.vendorManifestPath,
    linkGlobs: o.profile.manifest.paths?.data ?? [],
    dropGlobs: o.profile.manifest.paths?.generated ?? [],
  };
}

export async function runHop(ctx: HopContext): Promise<void> {
  const { o, p, j, hop, report } = ctx;
  const hp = hopPaths(p, j.runId, hop);
  const ev = hopEvents(ctx);
  let verified: { manifest: PackManifest; sha256: string; keyid: string } | undefined;
  let staged: StageResult | undefined;
  let carry: CarryOptions | undefined;
  let carried: CarriedEntries | undefined;

  ev('verify the pack');
  await timed(
    ctx,
    'verify',
    false,
    () => ({ sha256: verified?.sha256, keyid: verified?.keyid, kind: verified?.manifest.kind }),
    async () => {
      await mkdir(hp.stage, { mode: 0o700 });
      const r = await verifyPack(report.pack, {
        trust: o.trust,
        install: { product: o.product, version: report.from, platform: o.platform },
        versionScheme: o.profile.catalog.scheme.id,
        stageInto: hp.pack,
        dataGlobs: migrationDataGlobs(o.profile.manifest.paths),
        ...(o.maxExpand === undefined ? {} : { maxExpand: o.maxExpand }),
      });
      await checkMigrationTargets(
        o.install,
        r.manifest,
        migrationDataGlobs(o.profile.manifest.paths),
      );
      const want = ctx.step.pack?.sha256;
      const hint = 'Fetch the pack the plan names again.';
      if (want && want !== r.sha256)
        throw planMismatch(`${report.pack} has SHA-256 ${r.sha256}, the plan names ${want}`, hint);
      if (r.manifest.to !== report.to)
        throw planMismatch(
          `${report.pack} upgrades to ${r.manifest.to}, the plan's hop to ${report.to}`,
          hint,
        );
      verified = { manifest: r.manifest, sha256: r.sha256, keyid: r.keyid };
      report.kind = r.manifest.kind;
    },
  );
  const manifest = (verified as { manifest: PackManifest }).manifest;

  ev('stage the new version (the service keeps running)');
  await timed(
    ctx,
    'stage',
    false,
    () => ({ counts: staged?.counts, merges: staged?.merges.length }),
    async () => {
      try {
        const oldVendor = await readVendorManifest(o.install, o.vendorManifestPath, o.baseTree);
        const pristine = await pristineFor(p, oldVendor.version, o.baseTree);
        staged = await stageTree({
          install: o.install,
          packDir: hp.pack,
          tree: hp.tree,
          manifest,
          vendorManifestPath: o.vendorManifestPath,
          oldVendor,
          ...(pristine ? { pristine } : {}),
          configGlobs: o.profile.manifest.paths?.config ?? [],
        });
        report.counts = staged.counts;
        report.merges = staged.merges;
        if (staged.conflicts.length > 0) throw await conflictError(p, j.runId, o.install, staged);
        await keepPristine(hp.tree, join(hp.stage, 'vendor'), staged, [
          hp.pack,
          pristine,
          o.install,
        ]);
        await ownLike(
          hp.tree,
          staged.newVendor.files.map((f) => f.path),
          o.install,
        );
        carry = carryOptions(o, hp.tree, staged);
        carried = await carryCustomerEntries(carry);
        // Flush the staged tree now, while the service still runs: the switch (downtime) then
        // only writes and fsyncs what changed since.
        syncTree(hp.tree);
      } catch (err) {
        throw wrapStageError(err, 'staging the new version');
      }
    },
  );
  const stagedResult = staged as StageResult;

  ev('back up the installation');
  await backupStep(ctx, [{ dir: o.install, out: hp.backup }], 'the switch', {
    file: hp.backup,
  });

  const hooks = (phase: PackManifest['hooks'][number]['phase']) =>
    runHooks(o.install, hp.pack, manifest, phase, report.migrations);
  await stopStep(ctx, hooks);

  ev('switch to the new version');
  await timed(
    ctx,
    'switch',
    true,
    () => ({ old: hp.old, tree: hp.tree, linkedData: linkedDataOf(o, carried) }),
    async () => {
      const parts: Record<string, number> = {};
      let lap = performance.now();
      const part = (name: string) => {
        const now = performance.now();
        parts[name] = Math.round(now - lap) / 1000;
        lap = now;
      };
      report.switchParts = parts;
      const changed = await changedSinceStaging(
        o.install,
        stagedResult.inputs,
        stagedResult.inputsReadAt,
      );
      part('check');
      if (changed.length > 0)
        throw new UpliftError(
          'UPLIFT_APPLY_STAGE_FAILED',
          `files changed after staging: ${changed.slice(0, 10).join(', ')}`,
          {
            hint: 'Do not edit the installation while apply runs; run uplift apply again (it merges the new edits).',
          },
        );
      // Carries (and fsyncs) only what changed since staging carried the customer entries.
      carryChangesSince(carry as CarryOptions, carried as CarriedEntries);
      part('carry');
      // The one write through a customer link a hop makes is its migrations' into a link the
      // profile declares as data: what it points to is kept first, for the rollback.
      keepLinkedData(o.install, hp.stage, linkedDataOf(o, carried));
      part('keep-linked-data');
      await rename(o.install, hp.old);
      crashPoint('switch:between');
      await rename(hp.tree, o.install);
      fsyncDir(dirname(o.install));
      fsyncDir(p.dir);
      part('rename');
      report.old = hp.old;
    },
  );

  ev('migrate configuration and database');
  await timed(
    ctx,
    'migrate',
    true,
    () => ({ ...report.migrations }),
    async () => {
      await runMigrations(
        o.install,
        hp.old,
        hp.pack,
        manifest,
        report.migrations,
        migrationDataGlobs(o.profile.manifest.paths),
      );
      await hooks('before-start');
      report.migrations.hooks.push(...(await postSwitchSteps(ctx)).map((n) => `post-switch: ${n}`));
    },
  );

  await startStep(ctx, () => hooks('after-start'));
  await probeStep(ctx);
  await smokeStep(ctx);

  await commitStep(ctx, { old: hp.old, backup: hp.backup }, () =>
    finishCommit(p, j.runId, hop, report.from, report.to),
  );
}

/**
 * What a commit leaves (idempotent: resume calls it again after a crash): the new version's
 * pristine vendor tree kept as the next merge base, staging removed, older generations removed
 * (this hop's old generation stays for `uplift rollback`).
 */
export async function finishCommit(
  p: StatePaths,
  runId: string,
  hop: number,
  from: string,
  to: string,
): Promise<void> {
  const hp = hopPaths(p, runId, hop);
  const pristineNew = join(hp.stage, 'vendor');
  const dest = join(p.vendor, versionSlug(to));
  if (await exists(pristineNew)) {
    await mkdir(p.vendor, { recursive: true, mode: 0o700 });
    await rm(dest, { recursive: true, force: true });
    await rename(pristineNew, dest);
  }
  keepWithGeneration(hp.stage, hp.old);
  await rm(hp.stage, { recursive: true, force: true });
  const keep = new Set([versionSlug(from), versionSlug(to)]);
  for (const name of await readdir(p.vendor).catch(() => [] as string[]))
    if (!keep.has(name)) await rm(join(p.vendor, name), { recursive: true, force: true });
  const mine = basename(hp.old);
  for (const name of await readdir(p.dir))
    if (
      (name.startsWith('gen-') && name !== mine && name !== basename(linkedDataBeside(hp.old))) ||
      (name.startsWith('stage-') && !name.startsWith(`stage-${runId}-`))
    )
      await rm(join(p.dir, name), { recursive: true, force: true });
  fsyncDir(p.dir);
}

/** Text files up to this size are kept as copies in the pristine tree; the rest are hard links. */
const pristineCopyMaxBytes = 8 << 20;

/**
 * Keeps the new version's vendor files as they ship: the base of the next upgrade's merges.
 * Text files (what a later upgrade merges) are copied, so an in-place edit of the installed file
 * (`>>`, `sed -i` keeps the inode too) cannot change the merge base. Binary and large files, which
 * are never merged, are hard-linked to the staged file to save the space and time.
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
): Promise<void> {
  await mkdir(join(out, 'tree'), { recursive: true, mode: 0o700 });
  for (const f of staged.newVendor.files) {
    const dest = join(out, 'tree', f.path);
    await mkdir(dirname(dest), { recursive: true });
    const src = join(tree, f.path);
    const st = await lstat(src).catch(() => undefined);
    if (st?.isFile() && st.size === f.size) {
      if (f.size <= pristineCopyMaxBytes) {
        const bytes = await readFile(src);
        if (sha256Of(bytes) === f.sha256) {
          if (isBinary(bytes)) await link(src, dest);
          else await writeFile(dest, bytes, { mode: 0o600 });
          continue;
        }
      } else if ((await hashFile(src)) === f.sha256) {
        await link(src, dest);
        continue;
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
  }
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(staged.newVendor)}\n`);
}

async function conflictError(
  p: StatePaths,
  runId: string,
  install: string,
  staged: StageResult,
): Promise<UpliftError> {
  const dir = join(p.conflicts, runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const c of staged.conflicts) {
    if (!c.content) continue;
    const f = join(dir, `${c.path}.proposed`);
    await mkdir(dirname(f), { recursive: true });
    await writeFile(f, c.content);
  }
  const report = staged.conflicts.map((c) => ({
    path: c.path,
    conflicts: c.conflicts,
    proposed: join(dir, `${c.path}.proposed`),
  }));
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return new UpliftError(
    'UPLIFT_APPLY_CONFLICT',
    `the customer's changes conflict with the new vendor files in ${staged.conflicts.map((c) => c.path).join(', ')}; nothing was stopped or changed`,
    {
      hint: `Read ${join(dir, 'report.json')} and the proposed files beside it, settle the conflicts in ${install}, then run uplift apply again.`,
      unchanged: true,
    },
  );
}

/**
 * Undoes a hop after its stop (idempotent, crash-safe: every decision is taken from what exists
 * on disk): stops whatever runs in the installation, puts the old generation back, keeps the new
 * one as `gen-…-failed`, removes staging, starts the old version if it was running.
 */
export async function rollbackHop(rc: RollbackContext): Promise<RollbackOutcome> {
  const { p, j, hop } = rc;
  const hp = hopPaths(p, j.runId, hop);
  const install = p.install;
  return rollBack(rc, {
    record: { old: hp.old, failed: hp.failed },
    event: 'roll back: stop the new version, put the old one back',
    // Only a switched-in new version is stopped: before the switch the old one is down already.
    stopFirst: async () => (await exists(hp.old)) && (await exists(install)),
    // Post-switch steps ran only in a switched-in new version, which is then still in place.
    postSwitchRan: async (name) =>
      (await exists(hp.old)) &&
      j.records.some((r) => r.hop === hop && r.step === 'migrate' && r.data.postSwitch === name),
    undo: async () => {
      // First, and again after a crash: the record goes only once the data is back on disk.
      restoreLinkedData(hp.stage);
      if (!(await exists(hp.old))) return;
      if (await exists(install)) {
        await rm(hp.failed, { recursive: true, force: true });
        await rename(install, hp.failed);
        crashPoint('rollback:between');
      }
      await rename(hp.old, install);
      fsyncDir(dirname(install));
      fsyncDir(p.dir);
    },
  });
}
