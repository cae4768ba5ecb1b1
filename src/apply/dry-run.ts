import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { refuseIfRestoreInterrupted } from '../backup/index.ts';
import { verifyPack } from '../pack/index.ts';
import type { PlanStep } from '../plan/index.ts';
import type { MergeOutcome } from './merge.ts';
import { statePaths, versionSlug } from './paths.ts';
import { packHops, resolvePack } from './plan-hops.ts';
import { checkSameFilesystem, manualStepError, readVendorManifest } from './preflight.ts';
import { type StageResult, stageTree } from './stage.ts';
import { refuseIfIncomplete } from './status.ts';
import { exists } from './tree.ts';
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
 * `uplift apply --dry-run`: verifies each pack and stages each hop in a temporary folder beside
 * the installation (the next hop is staged on top of the previous hop's staged tree), reports
 * what would change, and removes everything. Nothing in the installation or its state changes.
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
  try {
    let current = o.install;
    for (let i = 0; i < hops.length; i++) {
      const s = hops[i] as PlanStep;
      const file = resolvePack(o.packsDir, s);
      const packDir = join(tmp, `pack-${i}`);
      const tree = join(tmp, `tree-${i}`);
      const v = await verifyPack(file, {
        trust: o.trust,
        install: { product: o.product, version: s.from as string, platform: o.platform },
        versionScheme: o.profile.catalog.scheme.id,
        stageInto: packDir,
      });
      const oldVendor = await readVendorManifest(
        current,
        o.vendorManifestPath,
        current === o.install ? o.baseTree : undefined,
      );
      const own = join(p.vendor, versionSlug(oldVendor.version), 'tree');
      const pristine = (await exists(own))
        ? own
        : i === 0 && o.baseTree
          ? join(o.baseTree, 'tree')
          : undefined;
      const r = await stageTree({
        install: current,
        packDir,
        tree,
        manifest: v.manifest,
        vendorManifestPath: o.vendorManifestPath,
        oldVendor,
        ...(pristine ? { pristine } : {}),
        configGlobs: o.profile.manifest.paths?.config ?? [],
      });
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
      current = tree;
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return {
    install: o.install,
    from: o.plan.from,
    to: hops.at(-1)?.to ?? o.plan.from,
    hops: out,
    ...(stop ? { stopsAt: `step ${stop.index}: ${stop.title}` } : {}),
  };
}
