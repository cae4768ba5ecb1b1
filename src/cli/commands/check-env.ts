import pc from 'picocolors';
import type { CheckStage, CheckStatus } from '../../checks/index.ts';
import {
  checkNodes,
  type DeploymentCheckResult,
  deploymentsOf,
  environmentOf,
  type NodeCheckResult,
} from '../../controller/index.ts';
import { ExitCode, UpliftError } from '../../errors/index.ts';
import { type Environment, openTopology } from '../../topology/index.ts';
import type { CommandResult } from '../types.ts';

export interface CheckEnvOptions {
  env: string;
  deployment?: string[];
  topology?: string;
  inventory?: string;
  state?: string;
  /** Nodes checked at once (default 10). */
  concurrency?: string;
  only?: string;
  for: CheckStage;
}

/** Nodes checked at once unless `--concurrency` says otherwise. */
const defaultConcurrency = 10;

/**
 * `uplift check --env E`: every node of the environment through its agent, several at once: can
 * the controller reach it, can its Node run uplift, and the node's own pre-upgrade checks to its
 * deployment's target. A node that fails is a result, not an abort; exit 3 when any check failed.
 * Each node's outcome is kept in the state store as its last check (`uplift fleet`).
 */
export async function handler(o: CheckEnvOptions): Promise<CommandResult> {
  const concurrency = concurrencyOf(o.concurrency);
  const topology = await openTopology({
    ...(o.topology === undefined ? {} : { topology: o.topology }),
    ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
  });
  const env = environmentOf(topology, o.env);
  const deployments = deploymentsOf(env, o.deployment);
  const { results, warnings } = await checkNodes(env, deployments, {
    concurrency,
    for: o.for,
    ...(o.only === undefined ? {} : { only: o.only }),
    ...(o.state === undefined ? {} : { state: o.state }),
  });
  const nodes = results.flatMap((d) => d.nodes);
  const summary = {
    nodes: nodes.length,
    pass: nodes.filter((n) => n.status === 'pass').length,
    warn: nodes.filter((n) => n.status === 'warn').length,
    fail: nodes.filter((n) => n.status === 'fail').length,
  };
  return {
    data: { topology: topology.file, env: env.name, deployments: results, summary, warnings },
    text: render(env, topology.file, results, summary),
    exitCode: summary.fail > 0 ? ExitCode.blocked : ExitCode.ok,
    warnings,
  };
}

function concurrencyOf(given: string | undefined): number {
  if (given === undefined) return defaultConcurrency;
  const n = Number(given);
  if (!Number.isInteger(n) || n < 1)
    throw new UpliftError(
      'UPLIFT_USAGE',
      `--concurrency ${JSON.stringify(given)} is not a whole number above 0`,
      {
        hint: `give how many nodes to check at once, e.g. --concurrency ${defaultConcurrency}`,
        unchanged: true,
      },
    );
  return n;
}

const nodeHeading: Record<NodeCheckResult['status'], (s: string) => string> = {
  fail: (s) => pc.red(pc.bold(s)),
  warn: (s) => pc.yellow(s),
  pass: (s) => pc.green(s),
};
const nodeVerdict: Record<NodeCheckResult['status'], string> = {
  fail: 'failed',
  warn: 'warned',
  pass: 'ready',
};
const groups: [CheckStatus, (n: number) => string][] = [
  ['fail', (n) => pc.red(pc.bold(`Failed (${n}): do what each says before upgrading`))],
  ['warn', (n) => pc.yellow(`Warnings (${n}): look at each; do it by hand if it applies`)],
];

/**
 * The text view: the verdict over every node first, then environment → deployment → node, each
 * node with its verdict and counts, its failed and warning checks as `uplift check` shows them
 * (what it found, what to do), and the passed and skipped ones by id on one line each.
 */
function render(
  env: Environment,
  file: string,
  results: DeploymentCheckResult[],
  s: { nodes: number; pass: number; warn: number; fail: number },
): string {
  const verdict =
    s.fail > 0
      ? pc.red(
          `${s.fail} node${s.fail === 1 ? '' : 's'} failed: fix ${s.fail === 1 ? 'it' : 'them'} before upgrading`,
        )
      : s.warn > 0
        ? pc.yellow('nothing failed; look at the warnings')
        : pc.green('ready');
  const lines = [
    `${verdict} — ${s.nodes} node${s.nodes === 1 ? '' : 's'}: ${s.pass} ready, ${s.warn} warned, ${s.fail} failed`,
    `${pc.bold(env.name)}  ${pc.dim(file)}`,
  ];
  for (const d of results) {
    lines.push(`  ${pc.bold(d.name)}  ${pc.dim(`(${d.type}, ${d.profile} → ${d.to})`)}`);
    for (const n of d.nodes) {
      const c = n.summary;
      const what = n.report
        ? `  ${n.report.from} → ${n.report.to} (checked for ${n.report.stage})`
        : '';
      lines.push(
        `    ${nodeHeading[n.status](`${n.name}  ${nodeVerdict[n.status]}`)} — ${c.pass} passed, ${c.warn} warned, ${c.fail} failed, ${c.skip} skipped${what}  ${pc.dim(n.address)}`,
      );
      for (const [status, heading] of groups) {
        const entries = n.checks.filter((x) => x.status === status);
        if (entries.length === 0) continue;
        lines.push(`      ${heading(entries.length)}`);
        for (const x of entries) {
          lines.push(`        • ${pc.bold(x.id)}: ${x.code ? `${x.code} ` : ''}${x.message}`);
          if (x.remediation)
            lines.push(`          to do: ${x.remediation.replaceAll('\n', '\n            ')}`);
        }
      }
      const passed = n.checks.filter((x) => x.status === 'pass').map((x) => x.id);
      if (passed.length > 0)
        lines.push(`      ${pc.green(`Passed (${passed.length})`)}: ${passed.join(', ')}`);
      const skipped = n.checks.filter((x) => x.status === 'skip');
      if (skipped.length > 0)
        lines.push(
          `      ${pc.dim(`Skipped (${skipped.length})`)}: ${skipped.map((x) => `${x.id} (${x.message})`).join(', ')}`,
        );
    }
  }
  return `${lines.join('\n')}\n`;
}
