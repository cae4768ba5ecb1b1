import { existsSync } from 'node:fs';
import { readHistory, statePaths } from '../../apply/index.ts';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import {
  type AccuracyRow,
  accuracyOf,
  estimatePlan,
  historySamples,
  type LearnedEstimate,
  publishAccuracy,
  publishSamples,
  readEstimates,
  recordEstimate,
  volumeFacts,
} from '../../estimate/index.ts';
import { getPlan } from '../../plan/index.ts';
import { openStateStore } from '../../state/index.ts';
import { profileForInstall } from '../profile-arg.ts';
import type { CommandResult } from '../types.ts';
import { resolveInstall } from './install-arg.ts';

export interface EstimateCommandOptions {
  install: string;
  profile?: string;
  to?: string;
  learnFrom?: string[];
  fact?: string[];
  accuracy?: boolean;
  /** False with --no-record. */
  record?: boolean;
  /** The SQLite state store; with it (or UPLIFT_DATABASE_URL) runs are shared through the store. */
  state?: string;
}

/**
 * `uplift estimate`: the learned estimate of the plan to `--to`, or with --accuracy the error
 * history. Everything the command is given is checked (plan, --learn-from) before anything is
 * written: the state store is opened, and the estimate kept, only then.
 */
export async function handler(opts: EstimateCommandOptions): Promise<CommandResult> {
  const install = await resolveInstall(opts.install);
  const p = statePaths(install);
  const useStore = opts.state !== undefined || Boolean(process.env.UPLIFT_DATABASE_URL);
  const open = () => openStateStore(opts.state === undefined ? {} : { file: opts.state });
  // A history line that is not one is skipped with this warning, as every reader does.
  const skipped = new Set<string>();
  const warn = (w: string) => skipped.add(w);
  if (opts.accuracy) {
    const rows = accuracyOf(await readEstimates(p), await readHistory(p, warn));
    const store = useStore ? await open() : undefined;
    try {
      if (store) await publishAccuracy(store, rows, install);
    } finally {
      await store?.close();
    }
    const warnings = [...skipped];
    return {
      data: { install, runs: rows, ...(store ? { store: store.label } : {}), warnings },
      text: renderAccuracy(install, rows),
      exitCode: ExitCode.ok,
      warnings,
    };
  }
  await readHistory(p, warn);
  const learnFrom: string[] = [];
  const noRuns: string[] = [];
  for (const dir of opts.learnFrom ?? []) {
    const other = await resolveInstall(dir, true);
    // Neither the folder nor the state uplift keeps beside it: a mistyped path, not an
    // installation without runs.
    if (!existsSync(other) && !existsSync(statePaths(other).dir))
      throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `--learn-from ${dir} does not exist`, {
        hint: 'give the folder of another installation uplift has upgraded (its history is kept beside it)',
        location: { file: dir },
        unchanged: true,
      });
    if ((await readHistory(statePaths(other), warn)).length === 0)
      noRuns.push(`${other} has no runs to learn from`);
    learnFrom.push(other);
  }
  const chosen = await profileForInstall(install, opts.profile);
  const warnings = [...chosen.warnings];
  warnings.push(...noRuns, ...skipped);
  const { plan, profile, facts } = await getPlan({
    install,
    profile: chosen.profile.dir,
    to: opts.to ?? 'latest',
    factFlags: opts.fact ?? [],
    warnings,
  });
  const volume = volumeFacts(profile.catalog, facts);
  const store = useStore ? await open() : undefined;
  let estimate: LearnedEstimate;
  let shared = 0;
  try {
    // What this installation measured is shared first, so other installations learn from it.
    if (store)
      shared = await publishSamples(store, (await historySamples(install)).samples, install);
    estimate = await estimatePlan(plan, profile.catalog, volume, {
      install,
      learnFrom,
      ...(store ? { store } : {}),
    });
  } finally {
    await store?.close();
  }
  if (opts.record !== false && estimate.hops.length > 0)
    await recordEstimate(p, {
      at: new Date().toISOString(),
      install,
      from: plan.from,
      to: plan.to,
      by: 'estimate',
      estimate,
    });
  return {
    data: {
      install,
      from: plan.from,
      to: plan.to,
      volume,
      estimate,
      ...(store ? { store: { label: store.label, sharedRuns: shared } } : {}),
      warnings,
    },
    text: renderEstimate(install, plan.from, plan.to, volume, estimate),
    exitCode: ExitCode.ok,
    warnings,
  };
}

function renderEstimate(
  install: string,
  from: string,
  to: string,
  volume: Record<string, number>,
  e: LearnedEstimate,
): string {
  if (e.hops.length === 0) return `${install} is at ${from}: nothing to estimate.\n`;
  const s = (x: { p50: number; p90: number }) => `${secs(x.p50)} (p90 ${secs(x.p90)})`;
  const lines = [
    `Estimate for ${install}: ${from} → ${to} (${e.hops.length} hop${e.hops.length === 1 ? '' : 's'})`,
    `  downtime  ${s(e.downtime)}`,
    `  total     ${s(e.total)}`,
    `  validate  ${s(e.validate)}`,
    `  rollback  ${s(e.rollback)}`,
    '  phases:',
    ...e.phases.map((ph) => `    ${ph.phase.padEnd(8)} ${s(ph)}`),
  ];
  const vol = Object.entries(volume).map(([k, v]) => `${k}=${v}`);
  if (vol.length > 0) lines.push(`  data volume: ${vol.join(', ')}`);
  lines.push(
    e.basis.kind === 'catalog'
      ? "  basis: the catalog's figures (no measured run of these hops); p90 = p50 x 1.5"
      : `  basis: ${e.basis.runs} measured run${e.basis.runs === 1 ? '' : 's'}, scaled by ${e.basis.scaledBy} for data volume${e.basis.runs === 1 ? '; p90 = p50 x 1.3 (one run)' : ''}\n${e.basis.from.map((f) => `    from ${f}`).join('\n')}`,
  );
  return `${lines.join('\n')}\n`;
}

function renderAccuracy(install: string, rows: AccuracyRow[]): string {
  if (rows.length === 0) return `No run of ${install} has an estimate made before it yet.\n`;
  const lines = [
    `Estimate against actual for ${install} (error = (p50 - actual) / actual):`,
    `  ${'run'.padEnd(26)} ${'hops'.padEnd(30)} ${'downtime p50/p90'.padEnd(18)} ${'actual'.padEnd(9)} ${'error'.padEnd(8)} basis`,
  ];
  for (const r of rows) {
    const d = r.downtime;
    lines.push(
      `  ${r.runId.padEnd(26)} ${`${r.from} → ${r.to}`.padEnd(30)} ${`${secs(d.p50)}/${secs(d.p90)}`.padEnd(18)} ${secs(d.actual).padEnd(9)} ${`${d.errorPercent > 0 ? '+' : ''}${d.errorPercent} %`.padEnd(8)} ${r.basis.kind === 'catalog' ? 'catalog' : `${r.basis.runs} run(s)`}${d.withinP90 ? '' : ' (over p90)'}`,
    );
  }
  const errs = rows.map((r) => Math.abs(r.downtime.errorPercent));
  lines.push(
    `Mean absolute downtime error: ${Math.round((errs.reduce((a, b) => a + b, 0) / errs.length) * 10) / 10} % over ${rows.length} run${rows.length === 1 ? '' : 's'}.`,
  );
  return `${lines.join('\n')}\n`;
}

function secs(n: number): string {
  if (n < 120) return `${Math.round(n * 10) / 10} s`;
  const m = Math.floor(n / 60);
  return `${m} min ${Math.round(n - m * 60)} s`;
}
