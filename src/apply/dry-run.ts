import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import type { PlanStep } from '../plan/index.ts';
import { carryChangesSince } from './carry.ts';
import type { MergeOutcome } from './merge.ts';
import { statePaths } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { checkSameFilesystem, manualStepError } from './preflight.ts';
import type { StageResult } from './stage.ts';
import { type HopStaging, stageHop, verifyHopPack } from './stage-hop.ts';
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
  const p = statePaths(o.install);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const tmp = await mkdtemp(join(p.dir, 'dry-run-'));
  const out: DryRunHop[] = [];
  let conflicted = false;
  try {
    let previous: HopStaging | undefined;
    for (let i = 0; i < hops.length && !conflicted; i++) {
      const s = hops[i] as PlanStep;
      const file = resolvePack(o.packsDir, s);
      const stage = join(tmp, `hop-${i}`);
      const hs: HopStaging = {
        install: previous?.tree ?? o.install,
        stage,
        pack: join(stage, 'pack'),
        tree: join(stage, 'tree'),
      };
      await mkdir(stage, { mode: 0o700 });
      const v = await verifyHopPack(o, s, file, hs);
      const kept = previous ? join(previous.stage, 'vendor', 'tree') : undefined;
      const h = await stageHop(o, p, hs, v.manifest, kept);
      const r = h.staged;
      conflicted = r.conflicts.length > 0;
      if (h.carry && h.carried) carryChangesSince(h.carry, h.carried);
      if (previous) await rm(previous.stage, { recursive: true, force: true });
      previous = hs;
      const m = v.manifest;
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
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return {
    install: o.install,
    from: o.plan.from,
    to: hops.at(-1)?.to ?? o.plan.from,
    hops: out,
    ...(stop && !conflicted ? { stopsAt: `step ${stop.index}: ${stop.title}` } : {}),
  };
}
