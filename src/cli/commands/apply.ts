import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  type ApplyOptions,
  type ApplyResult,
  type DryRunResult,
  dryRun,
  enforceOwnership,
  type HopMethodName,
  refuseIfIncomplete,
  runApply,
} from '../../apply/index.ts';
import { ExitCode, shellWord, UpliftError } from '../../errors/index.ts';
import { estimateForRun, type LearnedEstimate, volumeFacts } from '../../estimate/index.ts';
import { getPlan, isPlanIntact, type Plan } from '../../plan/index.ts';
import type { Profile } from '../../profile/index.ts';
import { verdictText } from '../../report/index.ts';
import { loadTrust, trustOf } from '../../signing/index.ts';
import { cacheDir, readRegularFile } from '../../util/index.ts';
import { profileForInstall, recordInstallProfile } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { vendorDryRun, vendorInstallerOf } from './apply-vendor.ts';
import { resolveInstall } from './install-arg.ts';
import { parseMaxExpand } from './pack.ts';

export interface ApplyCommandOptions {
  install: string;
  /** A profile name or folder (default: the one recorded for the installation, else recognised). */
  profile?: string;
  /** A facts file laid over what detection reads, as on `uplift plan`. */
  facts?: string;
  /** `--fact path=value` flags, laid over both. */
  fact?: string[];
  /** `--allow-undeclared`: facts the profile does not declare are warnings, not errors. */
  allowUndeclared?: boolean;
  /** Why the operator goes ahead with a `not-recommended` verdict; journaled by the engine. */
  acceptRisk?: string;
  to?: string;
  /** The release channel `--to` is chosen in (`--channel`). */
  channel?: string;
  plan?: string;
  packs?: string;
  trust?: string;
  baseTree?: string;
  yes?: boolean;
  dryRun?: boolean;
  /** vendor-installer: a catalog to check the vendor's zips against instead of the profile's. */
  catalog?: string;
  /** Keep the backups of this many runs, this one included (`--keep-runs`, default 3). */
  keepRuns?: string;
  /** `--max-expand RATIO`: the pack expansion ratio allowed. */
  maxExpand?: string;
  /** `--leave-stopped`: leave the services stopped after a successful commit. */
  leaveStopped?: boolean;
}

export interface ApplyIo {
  stderr: (s: string) => void;
  stdinIsTty: boolean;
}

/** What a plan's content must still be for the installation as it is now (not pids or sizes). */
function planningView(plan: Plan) {
  return {
    product: plan.product,
    from: plan.from,
    to: plan.to,
    platform: plan.facts.platform,
    verdict: plan.verdict,
    steps: plan.steps.map((s) => ({
      kind: s.kind,
      from: s.from,
      to: s.to,
      pack: s.pack?.file ?? null,
    })),
    incompatibilities: plan.incompatibilities.map((i) => `${i.id}:${i.outcome}`),
    prerequisites: plan.externalPrerequisites.map((i) => `${i.id}:${i.status}`),
  };
}

async function loadPlanFile(file: string): Promise<Plan> {
  let plan: Plan;
  try {
    plan = JSON.parse(await readRegularFile(file, 'utf8')) as Plan;
  } catch (err) {
    throw new UpliftError(
      'UPLIFT_APPLY_PLAN_INVALID',
      `${file} is not a plan: ${(err as Error).message}`,
      {
        hint: 'Give the JSON that plan --format json wrote.',
        location: { file },
        unchanged: true,
      },
    );
  }
  if (
    typeof plan !== 'object' ||
    plan === null ||
    plan.planFormat !== 1 ||
    typeof plan.hash !== 'string' ||
    !isPlanIntact(plan)
  )
    throw new UpliftError(
      'UPLIFT_APPLY_PLAN_INVALID',
      `${file}: the plan's hash does not match its content`,
      {
        hint: 'Plan again with --format json; a plan must not be edited after review.',
        location: { file, path: 'hash' },
        unchanged: true,
      },
    );
  return plan;
}

/** The plan to run and what apply needs from the profile and the facts. */
export async function preparePlan(
  install: string,
  opts: Pick<
    ApplyCommandOptions,
    'to' | 'channel' | 'plan' | 'facts' | 'fact' | 'allowUndeclared'
  > & {
    /** Receives warnings about the facts. */
    warnings?: string[];
  },
  profileArg?: Profile,
): Promise<{
  plan: Plan;
  product: string;
  platform: string;
  vendorManifestPath: string;
  method: HopMethodName;
  apply: Profile['manifest']['apply'];
  profile: Profile;
  /** The data-volume facts the catalog's durations scale with (src/estimate/volume.ts). */
  volume: Record<string, number>;
}> {
  if ((opts.to === undefined) === (opts.plan === undefined))
    throw new UpliftError('UPLIFT_USAGE', 'pass either --to VERSION or --plan PLAN.json', {
      hint: `Give the version to go to (or latest), and rehearse first:\nuplift apply --install ${shellWord(install)} --to latest --dry-run`,
      unchanged: true,
    });
  const saved = opts.plan ? await loadPlanFile(opts.plan) : undefined;
  const {
    plan: now,
    profile,
    facts,
  } = await getPlan({
    install,
    ...(profileArg ? { profile: profileArg.dir } : {}),
    to: saved ? saved.target.requested : (opts.to as string),
    ...((saved?.channel ?? opts.channel) !== undefined
      ? { channel: saved?.channel ?? opts.channel }
      : {}),
    factsFile: opts.facts,
    factFlags: opts.fact ?? [],
    allowUndeclared: opts.allowUndeclared,
    warnings: opts.warnings,
  });
  if (saved) {
    const a = JSON.stringify(planningView(saved));
    const b = JSON.stringify(planningView(now));
    if (a !== b)
      throw new UpliftError(
        'UPLIFT_APPLY_PLAN_MISMATCH',
        `the plan ${opts.plan} no longer matches ${install}: planned from ${saved.from} on ${saved.facts.platform}, the installation now plans from ${now.from} on ${now.facts.platform} with ${now.steps.length} step(s)`,
        {
          hint: 'The installation changed since the plan was made; plan again and review the new plan.',
          location: { file: opts.plan as string },
          unchanged: true,
        },
      );
  }
  const plan = saved ?? now;
  const platform =
    typeof facts.platform?.id === 'string' ? facts.platform.id : (plan.facts.platform ?? '');
  const method = profile.manifest.apply?.method ?? 'uplift-pack';
  const vendorManifestPath = profile.manifest.detection?.vendorManifest ?? '';
  return {
    plan,
    product: plan.product,
    platform,
    vendorManifestPath,
    method,
    apply: profile.manifest.apply,
    profile,
    volume: volumeFacts(profile.catalog, facts),
  };
}

/** What apply says first, in text and in --json: the plan's verdict and its reasons. */
function verdictOf(plan: Plan, acceptRisk: string | undefined) {
  return {
    verdict: plan.verdict,
    reasons: plan.reasons.map((r) => r.text),
    ...(acceptRisk !== undefined ? { acceptRisk } : {}),
  };
}

function verdictLine(v: ReturnType<typeof verdictOf>): string {
  const lines = [`Verdict: ${verdictText[v.verdict]}`];
  for (const r of v.reasons) lines.push(`  - ${r}`);
  if (v.acceptRisk !== undefined) lines.push(`  risk accepted: ${v.acceptRisk}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The plan's verdict decides before anything is written: `blocked` refuses, `not-recommended`
 * needs `--accept-risk` (a dry run changes nothing and only says so).
 */
function obeyVerdict(plan: Plan, install: string, opts: ApplyCommandOptions): void {
  const reasons = plan.reasons.map((r) => ({ message: `${r.code}: ${r.text}` }));
  const listed = plan.reasons.map((r) => r.text).join('; ');
  if (plan.verdict === 'blocked')
    throw new UpliftError(
      'UPLIFT_APPLY_BLOCKED',
      `the plan for ${install} from ${plan.from} to ${plan.to} is blocked${listed ? `: ${listed}` : ''}`,
      {
        hint: `Resolve what blocks it, then plan again; the plan shows each reason and what to do:\nuplift plan --install ${shellWord(install)} --to ${shellWord(plan.target.requested)}`,
        details: reasons,
        unchanged: true,
      },
    );
  // The dry run refuses what the real run refuses, so that it predicts the run; with
  // --accept-risk it shows the hops (and records nothing).
  if (plan.verdict === 'not-recommended' && opts.acceptRisk === undefined)
    throw new UpliftError(
      'UPLIFT_APPLY_RISK_NOT_ACCEPTED',
      `the upgrade of ${install} from ${plan.from} to ${plan.to} is not recommended${listed ? `: ${listed}` : ''}`,
      {
        hint: `Supply the missing facts (a facts file as --facts, or one --fact path=value per fact) so the plan can decide, or go ahead with --accept-risk "why it is acceptable" (${opts.dryRun ? 'a dry run with it shows the hops and records nothing' : 'recorded in the journal'}).`,
        details: reasons,
        unchanged: true,
      },
    );
  if (opts.acceptRisk !== undefined && opts.acceptRisk.trim() === '')
    throw new UpliftError('UPLIFT_USAGE', '--accept-risk needs a reason', {
      hint: 'Say why the risk is acceptable, e.g. --accept-risk "database version checked by hand".',
      unchanged: true,
    });
}

export async function trustFrom(file: string | undefined) {
  const path = file ?? process.env.UPLIFT_TRUST;
  if (!path)
    throw new UpliftError('UPLIFT_PACK_NO_TRUST', 'no trusted keys to verify packs with', {
      hint: 'Give --trust the keys packs are signed with (a .pub file, a trust file or a directory of .pub files), or set UPLIFT_TRUST to them.',
      unchanged: true,
    });
  return loadTrust(path);
}

function packsDirOf(dir: string | undefined): string {
  if (dir) return resolve(dir);
  const cache = cacheDir();
  if (!cache)
    throw new UpliftError('UPLIFT_USAGE', 'no folder with packs: the cache is off', {
      hint: 'Pass --packs DIR.',
    });
  return join(cache, 'packs');
}

/** `uplift apply`. */
export async function handler(opts: ApplyCommandOptions, io: ApplyIo): Promise<CommandResult> {
  const keepRuns = keepRunsOf(opts.keepRuns);
  const maxExpand = opts.maxExpand === undefined ? undefined : parseMaxExpand(opts.maxExpand);
  const install = await resolveInstall(opts.install, true);
  // Before planning: a run in progress (or crashed) makes the installation's facts meaningless.
  await refuseIfIncomplete(install);
  const chosen = await profileForInstall(install, opts.profile);
  const warnings = chosen.warnings;
  const prepared = await preparePlan(install, { ...opts, warnings }, chosen.profile);
  obeyVerdict(prepared.plan, install, opts);
  if (!prepared.vendorManifestPath && prepared.method === 'uplift-pack')
    throw new UpliftError(
      'UPLIFT_APPLY_PLAN_INVALID',
      `the profile ${prepared.profile.manifest.name} names no vendor manifest`,
      {
        hint: "apply needs detection.vendorManifest in the profile to tell vendor files from the customer's.",
        unchanged: true,
      },
    );
  const verdict = verdictOf(prepared.plan, opts.acceptRisk);
  // First, with the progress lines on standard error: whatever stops the run later, the operator
  // has seen what the plan said. --json results carry it too.
  io.stderr(verdictLine(verdict));
  const vendorInstaller = vendorInstallerOf(install, prepared.apply, opts.catalog);
  // Who runs the upgrade: the owner, or root switched to the owner; anyone else is refused here,
  // before the lock, with nothing written (src/apply/ownership.ts).
  await enforceOwnership(install, {
    walk: true,
    extraDirs: vendorInstaller ? [vendorInstaller.installerDir] : [],
  });
  const base: ApplyOptions = {
    install,
    plan: prepared.plan,
    profile: prepared.profile,
    ...(opts.acceptRisk !== undefined ? { acceptRisk: opts.acceptRisk } : {}),
    packsDir: packsDirOf(opts.packs),
    // The vendor's zips are checked against the catalog; uplift's own packs against signatures.
    trust:
      vendorInstaller && !opts.trust && !process.env.UPLIFT_TRUST
        ? trustOf([], [])
        : await trustFrom(opts.trust),
    method: prepared.method,
    ...(vendorInstaller ? { vendorInstaller } : {}),
    product: prepared.product,
    platform: prepared.platform,
    vendorManifestPath: prepared.vendorManifestPath,
    ...(opts.baseTree ? { baseTree: resolve(opts.baseTree) } : {}),
    ...(keepRuns !== undefined ? { keepRuns } : {}),
    ...(maxExpand !== undefined ? { maxExpand } : {}),
    ...(opts.leaveStopped ? { leaveStopped: true } : {}),
    volume: prepared.volume,
    onEvent: (line) => io.stderr(`${line}\n`),
  };
  if (prepared.plan.steps.length === 0)
    return {
      data: {
        ...verdict,
        install,
        from: prepared.plan.from,
        to: prepared.plan.to,
        version: prepared.plan.from,
        hops: [],
        outcome: 'up-to-date',
        warnings,
      },
      text: `${install} is at ${prepared.plan.from}: nothing to apply.\n`,
      exitCode: ExitCode.ok,
      warnings,
    };
  if (opts.dryRun && vendorInstaller) {
    const r = await vendorDryRun(base);
    return {
      data: { ...verdict, ...r, warnings },
      text: r.text,
      exitCode: ExitCode.ok,
      warnings,
    };
  }
  if (opts.dryRun) {
    const r = await dryRun(base);
    return {
      data: { ...verdict, ...r, warnings },
      text: renderDryRun(r),
      exitCode: r.hops.some((h) => h.conflicts.length) ? ExitCode.blocked : ExitCode.ok,
      warnings,
    };
  }
  if (!opts.yes) {
    if (!io.stdinIsTty)
      throw new UpliftError(
        'UPLIFT_APPLY_CONFIRM',
        'apply changes the installation and stops its service; confirm with --yes',
        {
          hint: 'Review the rehearsal first (the same command with --dry-run), then run it with --yes.',
          unchanged: true,
        },
      );
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    const steps = prepared.plan.steps.map((s) => s.to).join(' → ');
    const answer = await rl.question(
      `Upgrade ${install} from ${prepared.plan.from}: ${steps}? [y/N] `,
    );
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim()))
      throw new UpliftError('UPLIFT_APPLY_CONFIRM', 'not confirmed; nothing was changed', {
        unchanged: true,
      });
  }
  // Before the run, so that resume and rollback after a crash use the same profile.
  await recordInstallProfile(install, prepared.profile);
  const learned = await estimateForRun(
    prepared.plan,
    prepared.profile.catalog,
    prepared.volume,
    install,
  );
  const r = await runApply(base);
  // Kept once the run went in: `uplift estimate --accuracy` sets it beside the measured run. A
  // full or read-only disk loses the comparison, not the committed run.
  await learned.record().catch((err: NodeJS.ErrnoException) => {
    if (!['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM'].includes(err.code ?? '')) throw err;
    warnings.push(
      `the estimate made before the run was not kept (${err.code}); uplift estimate --accuracy will not list this run`,
    );
  });
  return {
    data: { ...verdict, ...r, volume: prepared.volume, estimate: learned.estimate, warnings },
    text: `${renderApply(r)}${renderEstimateVsActual(learned.estimate, r)}`,
    exitCode: ExitCode.ok,
    warnings,
  };
}

/** `--keep-runs N`: a whole number of at least 1 (this run's backups are always kept). */
function keepRunsOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--keep-runs ${text} is not a whole number of at least 1`,
      {
        hint: "Give how many runs' backups to keep, this run included, e.g. --keep-runs 3.",
        unchanged: true,
      },
    );
  return n;
}

function renderApply(r: ApplyResult): string {
  const lines = [
    `Upgraded ${r.install} from ${r.from} to ${r.to} in ${r.seconds} s (run ${r.runId})`,
  ];
  for (const h of r.hops) {
    const c = h.counts;
    lines.push(
      `  ${h.from} → ${h.to}: ${h.kind} pack; ${c.added} added, ${c.replaced} replaced, ${c.deleted} deleted, ${c.merged} merged, ${c.kept} kept; downtime ${h.downtimeSeconds ?? '?'} s`,
    );
    for (const m of h.merges)
      lines.push(`    ${m.outcome.padEnd(12)} ${m.path}${m.notes[0] ? `: ${m.notes[0]}` : ''}`);
    const mig = [...h.migrations.database, ...h.migrations.config];
    if (mig.length) lines.push(`    migrations: ${mig.join(', ')}`);
  }
  if (r.leftStopped) lines.push('  the services are left stopped (--leave-stopped)');
  if (r.recoveredLock) lines.push(`  recovered a stale lock (${r.recoveredLock.reason})`);
  if (r.prunedBackups.length > 0)
    lines.push(
      `  removed ${r.prunedBackups.length} older backup${r.prunedBackups.length === 1 ? '' : 's'} (--keep-runs); kept this run's first and last`,
    );
  lines.push(`Undo the last hop with: uplift rollback --install ${r.install}`);
  return `${lines.join('\n')}\n`;
}

/** The estimate made before the run beside what the run measured. */
function renderEstimateVsActual(e: LearnedEstimate, r: ApplyResult): string {
  const down = r.hops.reduce((t, h) => t + (h.downtimeSeconds ?? 0), 0);
  const basis =
    e.basis.kind === 'catalog' ? "the catalog's figures" : `${e.basis.runs} measured run(s)`;
  const err = down > 0 ? ` (${Math.round(((e.downtime.p50 - down) / down) * 1000) / 10} %)` : '';
  return `Estimated downtime ${e.downtime.p50} s (p90 ${e.downtime.p90} s, from ${basis}); measured ${Math.round(down * 1000) / 1000} s${err}.\n`;
}

function renderDryRun(r: DryRunResult): string {
  const lines = [`Dry run: ${r.install} from ${r.from} to ${r.to}; nothing was changed.`];
  for (const h of r.hops) {
    const c = h.counts;
    lines.push(
      `\n${h.from} → ${h.to} (${h.kind} pack ${h.pack}): ${c.added} added, ${c.replaced} replaced, ${c.deleted} deleted, ${c.merged} merged, ${c.kept} kept; estimated downtime ${h.estimatedDowntimeSeconds} s`,
    );
    for (const m of h.merges) lines.push(`  ${m.outcome.padEnd(12)} ${m.path}`);
    for (const c2 of h.conflicts)
      lines.push(`  CONFLICT     ${c2.path}: ${c2.messages.join('; ')}`);
    if (h.migrations.database.length)
      lines.push(`  database migrations: ${h.migrations.database.join(', ')}`);
    if (h.migrations.config.length)
      lines.push(`  configuration migrations: ${h.migrations.config.join(', ')}`);
    if (h.migrations.hooks.length) lines.push(`  hooks: ${h.migrations.hooks.join(', ')}`);
    for (const d of h.diffs) lines.push(d.diff.trimEnd());
  }
  if (r.stopsAt) lines.push(`\nThe run would stop at ${r.stopsAt}.`);
  return `${lines.join('\n')}\n`;
}
