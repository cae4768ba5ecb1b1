import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { readBackupInfo, restoreBackup } from '../../backup/index.ts';
import { loadCatalog } from '../../catalog/index.ts';
import { detectFacts } from '../../detect/index.ts';
import { UpliftError } from '../../errors/index.ts';
import { crashPoint, fsyncDir } from '../../util/index.ts';
import {
  entryNameProblem,
  type VendorPackReport,
  verifyVendorPack,
} from '../../vendor-pack/index.ts';
import {
  backupStep,
  commitStep,
  type HopContext,
  HopFailure,
  hopEvents,
  planMismatch,
  probeStep,
  type RollbackContext,
  type RollbackOutcome,
  rollBack,
  startStep,
  stopStep,
  timed,
} from '../hop-steps.ts';
import { migrationDataGlobs } from '../migrate.ts';
import { hopPaths, type StatePaths } from '../paths.ts';
import { exists } from '../tree.ts';

/**
 * The `vendor-installer` hop method: securetransport's own upgrade packs, run the way the upgrade
 * guide documents them, inside apply's plan, journal, backup and automatic restore.
 *
 * verify (the zip against the catalog, the platform, the installed version) → stage (the zip
 * copied beside the installation, verified there, its two folders extracted safely) → backup (the
 * installation and the installer directory, each verified restorable) → stop → installer-update
 * (`./update.sh -i <UpgradeStep1 file>` in the installer directory) → product-update
 * (`./update.sh [-javaargument ARG] -i <UpgradeStep2 file>`) → start → probe (every pid file names
 * a live process, and the version file says the hop's target) → commit. Any failure after the
 * stop restores both backups and starts the old version. See docs/apply.md, "Vendor installer".
 */
export interface VendorInstallerOptions {
  /** The Axway Installer directory (absolute): where update.sh is run. */
  installerDir: string;
  /** The update script, relative to the installer directory (default `update.sh`). */
  updateScript: string;
  /** `-javaargument` for the product update (the guide's Oracle case: `-DskipDBProcedure=true`). */
  javaArgument?: string;
  /** A catalog to check the vendor's zips against instead of the profile's (e.g. with sha256 added). */
  catalogFile?: string;
  /** Longest an update step may run (default 1 hour). */
  stepTimeoutMs?: number;
}

/** The installer directory's backup, beside the installation's. */
export function installerBackupOf(backup: string): string {
  return backup.replace(/\.tar\.gz$/, '-installer.tar.gz');
}

function logFile(p: StatePaths, runId: string, hop: number, step: string): string {
  return join(p.dir, 'logs', `${runId}-${hop}-${step}.log`);
}

/** What the hop's zip holds, once staged. */
interface Staged {
  report: VendorPackReport;
  installerUpdate: string;
  productUpdate: string;
}

function vendorError(step: string, message: string, hint: string): UpliftError {
  return new UpliftError('UPLIFT_APPLY_VENDOR_STEP_FAILED', `${step}: ${message}`, { hint });
}

/** Extracts the verified zip's UpgradeStep1/ and UpgradeStep2/ into `dest`; nothing can land outside it. */
export async function extractVendorZip(zipFile: string, dest: string): Promise<string[]> {
  const zip = await yauzl.openPromise(zipFile, {
    lazyEntries: true,
    strictFileNames: true,
    validateEntrySizes: true,
  });
  const written: string[] = [];
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const name = entry.fileName;
      const problem = entryNameProblem(name);
      if (problem || !/^UpgradeStep[12]\//.test(name))
        throw new UpliftError(
          'UPLIFT_VENDOR_PACK_BAD_ZIP',
          `${zipFile}: entry "${name}" ${problem ?? 'is outside UpgradeStep1/ and UpgradeStep2/'}`,
          { hint: 'Do not use this pack; download it again.', location: { file: zipFile } },
        );
      const target = resolve(dest, name);
      if (!target.startsWith(`${resolve(dest)}/`))
        throw new UpliftError(
          'UPLIFT_VENDOR_PACK_BAD_ZIP',
          `${zipFile}: "${name}" leaves ${dest}`,
          {
            hint: 'Do not use this pack.',
            location: { file: zipFile },
          },
        );
      if (name.endsWith('/')) {
        await mkdir(target, { recursive: true, mode: 0o755 });
        continue;
      }
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      const stream = await zip.openReadStreamPromise(entry);
      await pipeline(stream, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
      written.push(name);
    }
  } finally {
    zip.close();
  }
  return written;
}

/** The next entry of a lazyEntries zip, or undefined at the end. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((done, fail) => {
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: yauzl.Entry) => {
      cleanup();
      done(e);
    };
    const onEnd = () => {
      cleanup();
      done(undefined);
    };
    const onError = (err: Error) => {
      cleanup();
      fail(err);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

/** The one update file in a step folder (the guide names one per folder). */
function updateFile(report: VendorPackReport, folder: 'UpgradeStep1' | 'UpgradeStep2'): string {
  const files = report.steps.find((s) => s.folder === folder)?.files ?? [];
  const [only] = files;
  if (files.length !== 1 || !only)
    throw new UpliftError(
      'UPLIFT_VENDOR_PACK_BAD_ZIP',
      `${report.fileName}: ${folder}/ holds ${files.length} files; the upgrade guide runs one update file from each folder`,
      {
        hint: 'Check with the vendor which file update.sh takes; uplift does not guess.',
        location: { file: report.file },
      },
    );
  return only.path;
}

/**
 * Runs `./<script> [args]` in the installer directory, output appended to a log beside the
 * installation. Resolves on the script's exit (services it starts keep running), kills its whole
 * process group on timeout.
 */
async function runUpdate(
  v: VendorInstallerOptions,
  args: string[],
  log: string,
  what: string,
): Promise<void> {
  await mkdir(dirname(log), { recursive: true, mode: 0o700 });
  const fh = await open(log, 'a', 0o600);
  const script = `./${v.updateScript.replace(/^\.\//, '')}`;
  await fh.write(`$ cd ${v.installerDir} && ${script} ${args.join(' ')}\n`);
  const timeoutMs = v.stepTimeoutMs ?? 3_600_000;
  try {
    const code = await new Promise<number | string>((done, fail) => {
      const child = spawn(script, args, {
        cwd: v.installerDir,
        stdio: ['ignore', fh.fd, fh.fd],
        detached: true,
        env: { ...process.env, HOME: process.env.UPLIFT_OWNER_HOME ?? process.env.HOME ?? '/' },
      });
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
      child.on('exit', (c, signal) => {
        clearTimeout(timer);
        done(c ?? `signal ${signal}`);
      });
    });
    if (code !== 0) {
      const tail = (await readFile(log, 'utf8')).split('\n').slice(-6).join('\n').trim();
      throw vendorError(
        what,
        `${script} ${args.join(' ')} exited with ${code}${code === 'signal SIGKILL' ? ` (no end within ${timeoutMs / 1000} s)` : ''}: ${tail}`,
        `Read ${log} and the installer's install.log; the hop is rolled back from the backups.`,
      );
    }
  } catch (err) {
    if (err instanceof UpliftError) throw err;
    throw vendorError(
      what,
      `${script} could not run in ${v.installerDir}: ${(err as Error).message}`,
      "Check the profile's apply.vendorInstaller.installerDir and that update.sh is executable by the installation's owner.",
    );
  } finally {
    await fh.close();
  }
}

/**
 * After the update: the profile's readiness probes pass (every service alive for the stability
 * window), and the installation says it is the hop's target, read as detection reads it.
 */
async function probeVendor(ctx: HopContext, to: string): Promise<void> {
  const { svc } = ctx;
  await probeStep(ctx);
  const now = (await detectFacts(svc.profile, svc.install).catch(() => undefined))?.version;
  if (now === undefined || !svc.profile.catalog.scheme.equals(now, to))
    throw new HopFailure(
      'probe',
      true,
      new UpliftError(
        'UPLIFT_APPLY_PROBE_FAILED',
        `the installation says it is ${now ?? '(no version)'} after the update, not ${to}`,
        { hint: "Read the installer's logs; the hop is rolled back." },
      ),
    );
}

/** One hop through the vendor's two update steps. */
export async function runVendorHop(ctx: HopContext): Promise<void> {
  const { o, p, j, hop, report } = ctx;
  const v = o.vendorInstaller;
  if (!v) throw new Error('vendor-installer: no installer settings');
  const hp = hopPaths(p, j.runId, hop);
  const ev = hopEvents(ctx);
  const zipCopy = join(hp.stage, basename(report.pack));
  const extracted = join(hp.stage, 'pack');
  let staged: Staged | undefined;
  const installerBackup = installerBackupOf(hp.backup);

  ev('verify the vendor pack');
  await timed(
    ctx,
    'verify',
    false,
    () => ({
      md5: staged?.report.checksums.md5.actual,
      sha256: staged?.report.checksums.sha256.actual,
      sha256Checked: staged?.report.sha256Checked,
    }),
    async () => {
      await mkdir(hp.stage, { mode: 0o700 });
      // The copy beside the installation is what is verified and extracted: a file swapped in the
      // packs folder afterwards cannot slip in.
      await copyFile(report.pack, zipCopy);
      const catalog = v.catalogFile ? await loadCatalog(v.catalogFile) : o.profile.catalog;
      const r = await verifyVendorPack(zipCopy, {
        catalog,
        platform: o.platform,
        installed: report.from,
      });
      if (!catalog.scheme.equals(r.release, report.to))
        throw planMismatch(
          `${r.fileName} leads to ${r.release}, the plan's hop to ${report.to}`,
          'Use the pack the plan names for this hop.',
        );
      for (const k of ['md5', 'sha256'] as const) {
        const want = ctx.step.pack?.[k];
        if (want && want !== r.checksums[k].actual)
          throw planMismatch(
            `${r.fileName} has ${k} ${r.checksums[k].actual}, the plan names ${want}`,
            'Download the pack the plan names again.',
          );
      }
      staged = {
        report: r,
        installerUpdate: updateFile(r, 'UpgradeStep1'),
        productUpdate: updateFile(r, 'UpgradeStep2'),
      };
    },
  );
  const s = staged as Staged;

  ev('stage: extract UpgradeStep1 and UpgradeStep2 (the service keeps running)');
  await timed(
    ctx,
    'stage',
    false,
    () => ({ installerUpdate: s.installerUpdate, productUpdate: s.productUpdate }),
    async () => {
      await mkdir(extracted, { mode: 0o700 });
      await extractVendorZip(zipCopy, extracted);
      await rm(zipCopy);
      report.counts.added = 2;
    },
  );

  ev('back up the installation and the installer directory');
  await backupStep(
    ctx,
    [
      { dir: o.install, out: hp.backup },
      { dir: v.installerDir, out: installerBackup },
    ],
    'the update',
    { file: hp.backup, installer: installerBackup },
  );

  await stopStep(ctx);

  // The guide's two update steps, each `./update.sh [ARGS] -i <file>` in the installer directory.
  const update = async (
    step: 'installer-update' | 'product-update',
    file: string,
    what: string,
    args: string[] = [],
  ) => {
    ev(`${step.replace('-', ' ')}: ./update.sh -i ${file}`);
    await timed(
      ctx,
      step,
      true,
      () => ({ file }),
      () =>
        runUpdate(v, [...args, '-i', join(extracted, file)], logFile(p, j.runId, hop, step), what),
    );
  };
  await update('installer-update', s.installerUpdate, 'the installer update (UpgradeStep1)');
  await update(
    'product-update',
    s.productUpdate,
    'the product update (UpgradeStep2)',
    v.javaArgument ? ['-javaargument', v.javaArgument] : [],
  );

  // The guide: "all services except for TM will be started automatically" by the product update;
  // start_all brings up the rest (TM).
  await startStep(ctx);
  await probeVendor(ctx, report.to);

  await commitStep(ctx, { backup: hp.backup, installerBackup }, () =>
    finishVendorCommit(p, j.runId, hop),
  );
}

/** What a vendor-installer commit leaves (idempotent): staging removed; both backups kept for `uplift rollback`. */
export async function finishVendorCommit(p: StatePaths, runId: string, hop: number): Promise<void> {
  await rm(hopPaths(p, runId, hop).stage, { recursive: true, force: true });
  fsyncDir(p.dir);
}

/** Restores the installer directory's backup taken with an installation backup, when there is one. */
export async function restoreCompanionBackups(backup: string): Promise<void> {
  const companion = installerBackupOf(backup);
  if (companion === backup || !(await exists(companion))) return;
  const info = await readBackupInfo(companion);
  await restoreBackup({ backup: companion, install: info.installation, stop: true, start: false });
}

/**
 * Undoes a vendor-installer hop after its stop (idempotent; resume calls it again after a crash):
 * stops whatever runs, restores the installation and the installer directory from the hop's
 * verified backups (restoreBackup is crash-safe on its own), starts the old version if it ran.
 */
export async function rollbackVendorHop(rc: RollbackContext): Promise<RollbackOutcome> {
  const { p, j, hop } = rc;
  const hp = hopPaths(p, j.runId, hop);
  return rollBack(rc, {
    record: { backup: hp.backup },
    event: 'roll back: stop the new version, restore the installation and the installer',
    stopFirst: () => exists(p.install),
    postSwitchRan: async () => false,
    undo: async () => {
      if (!(await exists(hp.backup)))
        throw new UpliftError(
          'UPLIFT_APPLY_ROLLBACK_FAILED',
          `the hop's backup ${hp.backup} is missing; the installation cannot be restored`,
          {
            hint: 'Restore the installation from your own backup.',
            unchanged: false,
            state: `the installer's changes are in place and the hop's backup ${hp.backup} is gone; the service is stopped`,
            next: `Restore ${p.install} from your own backup (restore takes the backup's file, one uplift backup wrote, and the installation as --install):\nuplift restore --help`,
          },
        );
      await restoreBackup({
        backup: hp.backup,
        install: p.install,
        service: rc.svc.control(rc.version),
        stop: true,
        start: false,
        // What the backup holds behind a data link goes back too, as in a run taken back.
        data: migrationDataGlobs(rc.svc.profile.manifest.paths),
      });
      crashPoint('rollback:between');
      await restoreCompanionBackups(hp.backup);
    },
  });
}
