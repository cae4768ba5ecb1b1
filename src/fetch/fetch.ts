import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { makeFolders, UpliftError, unreadableFileError } from '../errors/index.ts';
import { verifyPack } from '../pack/index.ts';
import { getPlan, isPlanIntact, type Plan, type PlanStep } from '../plan/index.ts';
import { keysOf, type PackEntry, refreshRepository } from '../repo/index.ts';
import { trustOf } from '../signing/index.ts';
import {
  acquireProcessLock,
  cacheDir,
  currentTime,
  readRegularFile,
  releaseProcessLock,
} from '../util/index.ts';
import { isVendorPackFile, verifyVendorPack } from '../vendor-pack/index.ts';
import { type DownloadResult, downloadFile } from './download.ts';
import type { DownloadProgress } from './progress.ts';
import { openRepository } from './source.ts';

export interface FetchOptions {
  /** Plan from this installation (with `to`), unless `planFile` is given. */
  install?: string;
  to?: string;
  /** The release channel `to` is chosen in; default the catalog's default channel. */
  channel?: string;
  profile?: string;
  /** A saved `uplift plan --json`; its hash must match its content. */
  planFile?: string;
  repo: string;
  /** A root.json obtained out of band, for the first use of the repository. */
  root?: string;
  /** Trust the repository of `root` at this address, whatever it served before. */
  resetTrust?: boolean;
  /** Where packs go (default: `<cache dir>/packs`). */
  out?: string;
  /** Connect, headers and silence limit; the rate window; the deadline's base (src/fetch/http.ts). */
  timeoutMs: number;
  /** The rate every read must keep (default 1 KiB/s). */
  minBytesPerSecond?: number;
  retries: number;
  /** The pack expansion ratio allowed (`--max-expand`; default the pack verifier's). */
  maxExpand?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export interface FetchedPack {
  step: number;
  title: string;
  file: string;
  path: string;
  size: number;
  sha256: string;
  status: DownloadResult['status'];
  resumedFrom: number;
  transferred: number;
  attempts: number;
  restarts: number;
  /** What was checked after the download, besides size and SHA-256 against the signed index. */
  checks: string[];
}

export interface FetchResult {
  repository: string;
  root: { version: number; rotations: number[] };
  index: { version: number; status: 'updated' | 'unchanged' | 'first'; previousVersion?: number };
  platform: string | null;
  from: string | null;
  to: string | null;
  out: string;
  packs: FetchedPack[];
  /** Damaged client state files and what was used instead. */
  recovered: string[];
  /** The repository's identity (SHA-256 of its root keys and threshold), and notes on its state. */
  identity: string;
  notes: string[];
}

async function readPlanFile(file: string): Promise<Plan> {
  let plan: Plan;
  try {
    plan = JSON.parse(await readRegularFile(file, 'utf8')) as Plan;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `${file} does not exist`, {
        hint: `Save the plan of the installation to upgrade there (give its folder as --install), or fetch with --install in place of --plan:\nuplift plan --help`,
        location: { file },
      });
    const unreadable = unreadableFileError(
      err,
      file,
      'Give --plan the JSON file that plan --format json --out wrote.',
    );
    if (unreadable) throw unreadable;
    throw new UpliftError('UPLIFT_FETCH_PLAN_INVALID', `${file} is not a plan (not JSON)`, {
      hint: `Save a plan as JSON there (plan --format json --out ${file}, with the installation as --install), or fetch with --install in place of --plan:\nuplift plan --help`,
      location: { file },
    });
  }
  if (typeof plan?.hash !== 'string' || !Array.isArray(plan.steps) || !isPlanIntact(plan))
    throw new UpliftError(
      'UPLIFT_FETCH_PLAN_INVALID',
      `${file}: the plan's hash does not match its content`,
      {
        hint: `The plan was edited after it was made; save it again (plan --format json --out ${file}, with the same --install or --profile and --from):\nuplift plan --help`,
        location: { file, path: 'hash' },
      },
    );
  return plan;
}

/** The steps that need a pack, each with the pack the plan chose for the node's platform. */
function packSteps(plan: Plan): (PlanStep & { pack: NonNullable<PlanStep['pack']> })[] {
  const out: (PlanStep & { pack: NonNullable<PlanStep['pack']> })[] = [];
  for (const s of plan.steps) {
    if (s.kind === 'manual' || s.to === null) continue;
    if (!s.pack)
      throw new UpliftError(
        'UPLIFT_FETCH_NO_PLATFORM',
        `step ${s.index} (${s.title}) has no pack: ${s.packProblem ?? 'the catalog lists none'}`,
        {
          hint:
            plan.facts.platform === null
              ? 'Give the platform: --fact platform.id=linux-x86-64 with uplift plan, or plan on the node itself.'
              : `The catalog lists no pack for ${plan.facts.platform} on this hop; ask the vendor.`,
        },
      );
    out.push(s as PlanStep & { pack: NonNullable<PlanStep['pack']> });
  }
  return out;
}

async function md5Of(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * `uplift fetch`: plans (or reads a saved plan), refreshes the repository's signed metadata, finds
 * every pack the plan needs in the signed index, downloads exactly those (resuming earlier
 * partial downloads), and verifies each before it is kept: size and SHA-256 from the index, the
 * catalog's checksums when the plan carries them, and an uplift pack's signature and policy
 * against the repository's pack keys.
 */
export async function fetchPacks(o: FetchOptions): Promise<FetchResult> {
  const planned = o.planFile
    ? undefined
    : await getPlan({
        install: o.install,
        profile: o.profile,
        to: o.to ?? 'latest',
        ...(o.channel !== undefined ? { channel: o.channel } : {}),
      });
  const plan = planned ? planned.plan : await readPlanFile(o.planFile as string);
  const steps = packSteps(plan);
  const cache = cacheDir();
  const out = resolve(o.out ?? (cache ? join(cache, 'packs') : ''));
  if (!o.out && !cache)
    throw new UpliftError('UPLIFT_USAGE', 'no folder for the packs: the cache is off', {
      hint: 'Pass --out DIR (or unset UPLIFT_CACHE_DIR=off).',
    });

  const source = await openRepository(o.repo, {
    timeoutMs: o.timeoutMs,
    minBytesPerSecond: o.minBytesPerSecond,
    retries: o.retries,
  });
  let locked: string | undefined;
  try {
    const initialRoot = o.root
      ? {
          raw: await readRegularFile(o.root).catch((err: unknown) => {
            throw (
              unreadableFileError(
                err,
                o.root as string,
                'Give --root the root.json the repository owner gave you.',
              ) ?? err
            );
          }),
          file: o.root,
        }
      : undefined;
    const trust = await refreshRepository({
      reader: source.reader,
      address: source.id,
      initialRoot,
      resetTrust: o.resetTrust,
      now: currentTime(),
    });

    // Find every pack before downloading any: a plan the repository cannot serve fails at once.
    const wanted = steps.map((s) => {
      const entry = trust.index.signed.packs.find(
        (p: PackEntry) =>
          basename(p.path) === s.pack.file &&
          (p.platform === undefined || p.platform === s.pack.platform),
      );
      if (!entry)
        throw new UpliftError(
          'UPLIFT_FETCH_NOT_IN_INDEX',
          `step ${s.index} (${s.title}) needs ${s.pack.file} for ${s.pack.platform}, which index.json version ${trust.index.signed.version} of ${source.name} does not list`,
          {
            hint: 'The repository does not carry this pack yet; ask its owner to add and publish it.',
          },
        );
      if (s.pack.sha256 && s.pack.sha256 !== entry.sha256)
        throw new UpliftError(
          'UPLIFT_FETCH_MISMATCH',
          `${s.pack.file}: the catalog's SHA-256 ${s.pack.sha256} differs from the index's ${entry.sha256}`,
          {
            hint: 'The catalog and the repository disagree about this pack; tell the vendor.',
            unchanged: true,
          },
        );
      return { step: s, entry };
    });

    const packKeys = keysOf(trust.root.signed);
    const packTrust = trustOf(
      trust.root.signed.roles.packs.keyids.flatMap((id) => {
        const k = packKeys.get(id);
        return k ? [k] : [];
      }),
    );
    await makeFolders(out, out, '--out');
    // Two fetches into one folder would write the same `.part` files: the second waits its turn.
    // A dead fetch's lock is taken over; unlike apply, fetch keeps no record of it.
    const acquired = await acquireProcessLock(fetchLockOf(out), {
      command: 'fetch',
      locked: (held) =>
        new UpliftError(
          'UPLIFT_FETCH_LOCKED',
          `another uplift fetch (pid ${held.pid}, since ${held.startedAt}) is downloading into ${out}`,
          {
            hint: `Wait for pid ${held.pid} to finish, or give this one another --out.`,
            location: { file: fetchLockOf(out) },
            unchanged: true,
          },
        ),
      busy: () =>
        new UpliftError('UPLIFT_FETCH_LOCKED', `cannot take the lock ${fetchLockOf(out)}`, {
          hint: 'Other fetches are taking and releasing the lock; try again.',
          unchanged: true,
        }),
    });
    locked = out;
    if (acquired.recovered) await rm(acquired.recovered.keptAs, { force: true });
    const packs: FetchedPack[] = [];
    for (const { step, entry } of wanted) {
      const dest = join(out, basename(entry.path));
      const r = await downloadFile({
        open: source.opener(entry.path),
        from: `${source.name}${source.name.endsWith('/') ? '' : '/'}${entry.path}`,
        dest,
        size: entry.size,
        sha256: entry.sha256,
        retries: o.retries,
        onProgress: o.onProgress,
      });
      const checks = ['size and SHA-256 from the signed index'];
      try {
        if (await isVendorPackFile(dest)) {
          // The vendor's own zip: its catalog entry (size, MD5, SHA-256), platform, hop and shape.
          const v = await verifyVendorPack(dest, {
            // The catalog the plan was made with, else the profile the saved plan names.
            ...(planned
              ? { catalog: planned.profile.catalog }
              : { profile: o.profile ?? plan.product }),
            platform: step.pack.platform,
            installed: step.from ?? undefined,
          });
          checks.push(
            `vendor pack: ${v.sha256Checked ? 'SHA-256 and ' : ''}MD5 from the catalog, platform, hop and UpgradeStep1/UpgradeStep2 shape`,
          );
        } else if (step.pack.md5) {
          const md5 = await md5Of(dest);
          if (md5 !== step.pack.md5.toLowerCase())
            throw new UpliftError(
              'UPLIFT_FETCH_MISMATCH',
              `${dest}: MD5 ${md5} is not the ${step.pack.md5} the catalog publishes`,
              {
                hint: 'The pack is not the one the vendor published; it was removed.',
                unchanged: true,
              },
            );
          checks.push('MD5 from the catalog');
        }
        if (step.pack.sha256) checks.push('SHA-256 from the catalog');
        if (dest.endsWith('.upk')) {
          await verifyPack(dest, {
            trust: packTrust,
            // The file's own SHA-256 is checked above, while it is downloaded.
            fileSha256: false,
            platform: step.pack.platform,
            ...(o.maxExpand === undefined ? {} : { maxExpand: o.maxExpand }),
            install:
              step.from === null
                ? undefined
                : { product: plan.product, version: step.from, platform: step.pack.platform },
          });
          checks.push("pack signature by the repository's pack keys, manifest and payload");
        }
      } catch (err) {
        // Nothing unverified stays where apply would look for it.
        await rm(dest, { force: true });
        // fetch has no --trust: the pack keys are the ones the repository's signed root lists.
        if (err instanceof UpliftError && err.code === 'UPLIFT_PACK_KEY_UNTRUSTED')
          throw new UpliftError(err.code, err.message, {
            hint: `The repository's root does not list the key that signed this pack as a pack key; ask the repository owner to publish packs signed with a listed key (or add the key: uplift repo rotate --pack-key KEY.pub).`,
            ...(err.location ? { location: err.location } : {}),
            unchanged: true,
            cause: err,
          });
        throw err;
      }
      packs.push({
        step: step.index,
        title: step.title,
        file: dest,
        path: entry.path,
        size: entry.size,
        sha256: entry.sha256,
        status: r.status,
        resumedFrom: r.resumedFrom,
        transferred: r.transferred,
        attempts: r.attempts,
        restarts: r.restarts,
        checks,
      });
    }
    return {
      repository: source.name,
      root: { version: trust.root.signed.version, rotations: trust.rotations },
      index: {
        version: trust.index.signed.version,
        status: trust.indexStatus,
        previousVersion: trust.previousIndexVersion,
      },
      platform: plan.facts.platform,
      from: plan.from,
      to: plan.to,
      out,
      packs,
      recovered: trust.recovered,
      identity: trust.identity,
      notes: trust.notes,
    };
  } finally {
    if (locked) await releaseProcessLock(fetchLockOf(locked));
    await source.close();
  }
}

/** The lock a fetch holds on its download folder while it downloads. */
export function fetchLockOf(out: string): string {
  return join(out, '.uplift-fetch.lock');
}
