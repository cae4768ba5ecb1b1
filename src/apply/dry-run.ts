import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import type { PackManifest } from '../pack/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { carryChangesSince } from './carry.ts';
import type { MergeOutcome } from './merge.ts';
import { statePaths } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { checkSameFilesystem, manualStepError } from './preflight.ts';
import type { StageResult } from './stage.ts';
import { type HopStaging, type StagedHop, stageHop, verifyHopPack } from './stage-hop.ts';
import { refuseIfIncomplete } from './status.ts';
import type { ApplyOptions } from './types.ts';

export interface DryRunHop {
  from: string;
  to: string;
  pack: string;
  kind: string;
  counts: StageResult['counts'];
  merges: { path: string; outcome: MergeOutcome; notes: string[] }[];
  conflicts: { path: string; messages: string[] }[];
  /** Unified diffs of the configuration files whose content changes (customer's file → merged file). */
  diffs: { path: string; diff: string }[];
  migrations: { database: string[]; config: string[]; hooks: string[] };
  estimatedDowntimeSeconds: number;
}

export interface DryRunResult {
  install: string;
  from: string;
  to: string;
  hops: DryRunHop[];
  /** A step apply would stop at (manual or fresh install). */
  stopsAt?: string;
}

/**
 * `uplift apply --dry-run`: each hop runs the real run's code up to its stop (src/apply/stage-hop.ts:
 * the same pack checks, merge bases, merges and conflicts) in a temporary folder beside the
 * installation. Hops are chained as the real run chains them: the next hop starts from the
 * previous hop's staged tree with the customer's entries carried in (data files hard-linked), and
 * takes its merge base from the previous hop's pristine vendor files, as the real run takes it
 * from the previous commit. Like the real run it stops at the first hop that conflicts.
 * Migrations are not run. Nothing in the installation or its state changes; the folder is removed.
 */
export async function dryRun(o: ApplyOptions): Promise<DryRunResult> {
  await refuseIfRestoreInterrupted(o.install);
  await checkSameFilesystem(o.install);
  await refuseIfIncomplete(o.install);
  const { hops, stop } = packHops(o.plan);
  if (hops.length === 0 && stop) throw manualStepError(stop, 0);
  const out: DryRunHop[] = [];
  const conflicted = await stageChain(
    o,
    hops,
    async ({ step: s, file, manifest: m, staged: h }) => {
      const r = h.staged;
      out.push({
        from: s.from as string,
        to: s.to as string,
        pack: file,
        kind: m.kind,
        counts: r.counts,
        merges: r.merges.map((x) => ({ path: x.path, outcome: x.outcome, notes: x.notes })),
        conflicts: r.conflicts.map((c) => ({
          path: c.path,
          messages: c.conflicts.map((x) => x.message),
        })),
        diffs: r.changedConfig.map((c) => ({
          path: c.path,
          diff: createTwoFilesPatch(
            `a/${c.path}`,
            `b/${c.path}`,
            c.before,
            c.after,
            'installed',
            'after apply',
          ),
        })),
        migrations: {
          database: m.migrations.database.map((d) => `${d.id} (${d.database})`),
          config: m.migrations.config.map((c) => c.id),
          hooks: m.hooks.map((h) => `${h.phase}:${h.id}`),
        },
        estimatedDowntimeSeconds: s.estimate.downtimeSeconds,
      });
    },
  );
  return {
    install: o.install,
    from: o.plan.from,
    to: hops.at(-1)?.to ?? o.plan.from,
    hops: out,
    ...(stop && conflicted === undefined ? { stopsAt: `step ${stop.index}: ${stop.title}` } : {}),
  };
}

/** One hop staged in a chain: its step, pack, manifest and what staging it gave. */
export interface ChainedHop {
  hop: number;
  step: PlanStep;
  file: string;
  manifest: PackManifest;
  staged: StagedHop;
}

/**
 * Stages `hops` one after the other in a temporary folder beside the installation, the way the
 * real run would (see {@link dryRun}), calling `each` with every hop staged, and stops at the
 * first hop that conflicts, which it returns. Nothing in the installation changes; the folder is
 * removed. Apply runs it before a run of several hops (`firstConflict`), so that a conflict at a
 * later hop stops the run before its first hop goes in, as the dry run predicts.
 */
export async function stageChain(
  o: ApplyOptions,
  hops: readonly PlanStep[],
  each: (h: ChainedHop) => Promise<void> = async () => {},
): Promise<ChainedHop | undefined> {
  const p = statePaths(o.install);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  // The pid in the name lets the next run that takes the lock remove the folder of a killed one
  // (src/apply/lock.ts), and leave alone the folder of a dry run still going.
  const tmp = await mkdtemp(join(p.dir, `dry-run-${process.pid}-`));
  try {
    let previous: HopStaging | undefined;
    for (let i = 0; i < hops.length; i++) {
      const step = hops[i] as PlanStep;
      const file = resolvePack(o.packsDir, step);
      const stage = join(tmp, `hop-${i}`);
      const hs: HopStaging = {
        install: previous?.tree ?? o.install,
        stage,
        pack: join(stage, 'pack'),
        tree: join(stage, 'tree'),
      };
      await mkdir(stage, { mode: 0o700 });
      const v = await verifyHopPack(o, step, file, hs);
      const kept = previous ? join(previous.stage, 'vendor', 'tree') : undefined;
      const staged = await stageHop(o, p, hs, v.manifest, kept);
      const h: ChainedHop = { hop: i, step, file, manifest: v.manifest, staged };
      await each(h);
      if (staged.staged.conflicts.length > 0) return h;
      if (staged.carry && staged.carried) carryChangesSince(staged.carry, staged.carried);
      if (previous) await rm(previous.stage, { recursive: true, force: true });
      previous = hs;
    }
    return undefined;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
