import { createInterface } from 'node:readline/promises';
import {
  actorName,
  connect,
  controllerId,
  deploymentsOf,
  environmentOf,
  planFreshRollout,
  type Survey,
  survey,
} from '../../controller/index.ts';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import {
  type DeploymentRolloutPlan,
  describeGate,
  type GateVerdict,
  type RolloutEvent,
  type RolloutResult,
  resumeRollout,
  runRollout,
} from '../../rollout/index.ts';
import { openStateStore, type StateStore } from '../../state/index.ts';
import { openTopology } from '../../topology/index.ts';
import type { PacksSent } from '../../transport/index.ts';
import type { CommandResult } from '../types.ts';
import { rolloutProgress } from '../ui/rollout-progress.ts';

export interface RolloutOptions {
  env: string;
  deployment?: string[];
  topology?: string;
  inventory?: string;
  dryRun?: boolean;
  resume?: boolean;
  abort?: boolean;
  overrideGate?: boolean;
  reason?: string;
  state?: string;
  actor?: string;
  json?: boolean;
  yes?: boolean;
}

export interface RolloutIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stderrIsTty: boolean;
  stdinIsTty: boolean;
}

/** What putting a node's packs did: `std/n1: packs: 1 sent (312.0 MiB), 1 already there`. */
export function packsLine(node: string, r: PacksSent): string {
  const mib = (r.bytes / 1048576).toFixed(1);
  const removed = r.pruned.length > 0 ? `; removed ${r.pruned.join(', ')} (unused for a day)` : '';
  return `${node}: packs: ${r.sent.length} sent (${mib} MiB), ${r.kept.length} already there${removed}`;
}

/** `uplift rollout`: plan, gate and run (or resume) the rollout of one environment. */
export async function handler(o: RolloutOptions, io: RolloutIo): Promise<CommandResult> {
  refuseBadOptions(o);
  const topology = await openTopology({
    ...(o.topology === undefined ? {} : { topology: o.topology }),
    ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
  });
  const env = environmentOf(topology, o.env);
  const deployments = deploymentsOf(env, o.deployment);
  // A dry run reads the store; so does a rollout that will be refused for want of --yes (no
  // terminal to ask on): neither creates the store nor records anything in it.
  const readOnly = o.dryRun === true || (!o.resume && !o.yes && !io.stdinIsTty);
  const store = await openStore(o, readOnly);
  const conn = connect(env);
  const controller = controllerId();
  const actor = actorName(o.actor);
  // Ctrl-C or a TERM stops the run between node actions; running node commands finish.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = rolloutProgress(io);
  const onEvent = (e: RolloutEvent) => {
    progress(e);
    if (o.json) io.stdout(`${JSON.stringify(e)}\n`);
  };
  try {
    const base = {
      env,
      topologyDigest: topology.digest,
      store,
      controller,
      actor,
      onEvent,
      signal: stop.signal,
      agentFor: conn.agentFor,
      balancerFor: conn.balancerFor,
    };
    if (o.resume) {
      const unfinished = await store?.unfinishedRun(env.name).catch(() => undefined);
      const s = await survey(conn, deployments, { needPlans: false });
      const targets = { ...s.targets, ...(await recordedTargets(store, unfinished?.id)) };
      const result = await resumeRollout(
        {
          ...base,
          targets,
          estimates: s.estimates,
          planKeys: s.planKeys,
          deployments: deployments.map((d) => d.name),
        },
        { abort: o.abort === true },
      );
      return resultOf(result, o);
    }
    if (store === undefined) throw new Error('unreachable: a fresh rollout opened its store');
    const unfinished = await store.unfinishedRun(env.name);
    if (unfinished !== undefined && !o.dryRun)
      throw new UpliftError(
        'UPLIFT_ROLLOUT_UNFINISHED',
        `the rollout ${unfinished.id} of ${env.name} (started ${unfinished.startedAt} by ${unfinished.controller}) did not finish`,
        {
          hint: 'run the same command with --resume to finish it, or with --resume --abort to take it back',
          unchanged: true,
        },
      );
    const {
      survey: s,
      plan,
      gate,
    } = await planFreshRollout(conn, topology, env, deployments, store, { record: !readOnly });
    if (o.dryRun) return dryRunResult(env.name, plan.deployments, gate, s, o, unfinished?.id);
    await confirm(o, io, plan.deployments);
    for (const d of s.deployments)
      for (const n of deployments.find((x) => x.name === d.deployment)?.nodes ?? []) {
        const sent = await conn.sendPacks(d.deployment, n.name, d.packs);
        if (sent !== undefined) io.stderr(`${packsLine(`${d.deployment}/${n.name}`, sent)}\n`);
      }
    const result = await runRollout({
      ...base,
      plans: plan.deployments,
      planKeys: s.planKeys,
      gate: {
        pass: gate.pass,
        ...(gate.pass ? {} : { overrideReason: o.reason }),
        detail: { verdict: describeGate(gate) },
      },
    });
    return resultOf(result, o);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await conn.close();
    await store?.close().catch(() => {});
  }
}

function refuseBadOptions(o: RolloutOptions): void {
  const usage = (message: string, hint: string) =>
    new UpliftError('UPLIFT_USAGE', message, { hint, unchanged: true });
  if (o.overrideGate && (o.reason === undefined || o.reason.trim() === ''))
    throw usage(
      '--override-gate needs --reason',
      'say why the gate is overridden: --override-gate --reason "…" (the audit keeps it)',
    );
  if (o.reason !== undefined && !o.overrideGate)
    throw usage('--reason goes with --override-gate', 'add --override-gate, or leave --reason out');
  if (o.abort && !o.resume)
    throw usage(
      '--abort goes with --resume',
      'take an interrupted rollout back with --resume --abort',
    );
  if (o.dryRun && o.resume)
    throw usage('--dry-run and --resume were both given', 'give one of them');
}

/** The store: a fresh rollout needs it (its failure is the error); resume goes on without it. */
async function openStore(o: RolloutOptions, readOnly: boolean): Promise<StateStore | undefined> {
  try {
    return await openStateStore({ ...(o.state === undefined ? {} : { file: o.state }), readOnly });
  } catch (e) {
    if (o.resume && !(e instanceof UpliftError && e.code === 'UPLIFT_USAGE')) return undefined;
    throw e;
  }
}

/** Each deployment's target as the interrupted run recorded it on its nodes. */
async function recordedTargets(
  store: StateStore | undefined,
  runId: string | undefined,
): Promise<Record<string, string>> {
  if (store === undefined || runId === undefined) return {};
  const states = await store.nodeStates(runId).catch(() => []);
  const out: Record<string, string> = {};
  for (const s of states) if (s.toVersion) out[s.deployment] = s.toVersion;
  return out;
}

async function confirm(
  o: RolloutOptions,
  io: RolloutIo,
  plans: DeploymentRolloutPlan[],
): Promise<void> {
  if (o.yes) return;
  const what = `rollout changes ${plans.reduce((a, p) => a + p.upgrades.length, 0)} node(s) of ${plans.length} deployment(s) and stops their services; confirm with --yes`;
  if (!io.stdinIsTty)
    throw new UpliftError('UPLIFT_ROLLOUT_CONFIRM', what, {
      hint: 'review the plan first (the same command with --dry-run), then run it with --yes',
      unchanged: true,
    });
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `${plans.map((p) => `${p.deployment}: ${p.upgrades.join(', ') || 'nothing'} → ${p.to}`).join('\n')}\nRoll out? [y/N] `,
  );
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim()))
    throw new UpliftError('UPLIFT_ROLLOUT_CONFIRM', 'not confirmed; nothing was changed', {
      unchanged: true,
    });
}

function stepText(p: DeploymentRolloutPlan, k: number): string {
  const s = p.steps[k];
  if (s === undefined) return '';
  const par = (s.parallel ?? 1) > 1 ? ` (${s.parallel} at once)` : '';
  const kind =
    s.kind === 'upgrade' && s.leaveStopped
      ? 'upgrade, left stopped'
      : s.kind === 'pause'
        ? `pause ${s.seconds ?? 0} s`
        : s.kind;
  return `${kind}: ${s.nodes.join(', ')}${par}`;
}

function dryRunResult(
  env: string,
  plans: DeploymentRolloutPlan[],
  gate: GateVerdict,
  s: Survey,
  o: RolloutOptions,
  unfinished: string | undefined,
): CommandResult {
  const gateOk = gate.pass || o.overrideGate === true;
  const lines = [
    `rollout of ${env} (dry run: nothing was changed)`,
    `gate: ${gate.pass ? 'passes' : o.overrideGate ? 'refuses, overridden' : 'refuses'}: ${describeGate(gate)}`,
  ];
  if (unfinished) lines.push(`an earlier rollout ${unfinished} did not finish: run --resume first`);
  let total = 0;
  for (const p of plans) {
    total += p.downtime.serviceSeconds;
    const key = s.planKeys[p.deployment];
    lines.push(
      '',
      `${p.deployment} (${p.type}) → ${p.to}${key && key.path.length > 0 ? `, path ${key.path.join(' → ')}` : ''}`,
    );
    if (p.steps.length === 0) lines.push('  nothing to do');
    p.steps.forEach((_, k) => {
      const mark = p.pointOfNoReturn === k ? '   ← point of no return' : '';
      lines.push(`  ${k + 1}. ${stepText(p, k)}${mark}`);
    });
    if (p.skipped.length > 0) lines.push(`  skipped (already at ${p.to}): ${p.skipped.join(', ')}`);
    if (p.pointOfNoReturn !== null)
      lines.push(`  point of no return: step ${p.pointOfNoReturn + 1}: ${p.pointOfNoReturnReason}`);
    else lines.push(`  point of no return: none (${p.pointOfNoReturnReason})`);
    const per = Object.entries(p.downtime.perNode)
      .map(([n, sec]) => `${n} ${sec} s`)
      .join(', ');
    lines.push(`  downtime per node: ${per || 'none'}`);
    lines.push(`  service downtime: ${p.downtime.serviceSeconds} s (${p.downtime.basis})`);
    lines.push(`  expected: ${p.expectedSeconds} s`);
  }
  lines.push('', `service downtime in total: ${total} s`);
  const data = {
    dryRun: true,
    env,
    gate: { ...gate, overridden: !gate.pass && o.overrideGate === true },
    unfinishedRun: unfinished ?? null,
    deployments: plans.map((p) => ({ ...p, planKey: s.planKeys[p.deployment] })),
    serviceDowntimeSeconds: total,
  };
  const exitCode = !gateOk
    ? ExitCode.blocked
    : unfinished !== undefined
      ? ExitCode.incomplete
      : ExitCode.ok;
  return { data, text: `${lines.join('\n')}\n`, exitCode };
}

function resultOf(r: RolloutResult, o: RolloutOptions): CommandResult {
  const claimed = r.deployments.filter((d) => d.outcome === 'claimed');
  const exitCode =
    r.outcome === 'passed'
      ? claimed.length > 0
        ? ExitCode.locked
        : ExitCode.ok
      : r.outcome === 'interrupted'
        ? ExitCode.incomplete
        : r.deployments.some((d) => d.code === 'UPLIFT_ROLLOUT_NOT_RESTORED')
          ? ExitCode.incomplete
          : ExitCode.failed;
  const lines = [
    `rollout ${r.runId} of ${o.env}: ${r.outcome}`,
    ...r.deployments.map(
      (d) =>
        `  ${d.deployment}: ${d.outcome}${d.code ? ` ${d.code}` : ''}${d.message ? ` (${d.message})` : ''}${
          d.notRestored?.length ? `; not restored: ${d.notRestored.join(', ')}` : ''
        }${d.failedNodes?.length ? `; failed nodes: ${d.failedNodes.join(', ')}` : ''}`,
    ),
  ];
  if (!r.storeReachable)
    lines.push(
      '  the state store was not reachable: the audit went to .uplift/audit-pending.jsonl',
    );
  if (exitCode === ExitCode.incomplete)
    lines.push('  finish it: the same command with --resume (or --resume --abort to take it back)');
  if (claimed.length > 0)
    lines.push(`  another controller holds ${claimed.map((d) => d.deployment).join(', ')}`);
  return { data: { type: 'result', ...r }, text: `${lines.join('\n')}\n`, exitCode };
}
