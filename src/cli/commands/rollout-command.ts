import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, collect } from '../register.ts';

/** Registers `uplift rollout`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('rollout')
    .description(
      "Upgrade every deployment of an environment of the topology, each in its type's order (docs/rollout.md), behind the promotion gate.",
    )
    .requiredOption('--env <name>', 'the environment to roll out (as the topology names it)')
    .option(
      '--deployment <name>',
      'only this deployment (repeatable; default all of the environment)',
      collect,
      [] as string[],
    )
    .option('--topology <file>', 'the topology file (default ./uplift.yaml)')
    .option('--inventory <file>', 'an Ansible inventory instead of the topology file')
    .option(
      '--dry-run',
      'show the gate, and per deployment the order, skipped nodes, downtime and point of no return; change nothing',
    )
    .option('--resume', 'continue the environment’s interrupted rollout from what its nodes report')
    .option('--abort', 'with --resume: take the interrupted rollout back instead')
    .option('--override-gate', 'run although the promotion gate refuses (needs --reason; audited)')
    .option('--reason <text>', 'why the gate is overridden (kept in the audit)')
    .option(
      '--state <file>',
      'the SQLite state store (default ./.uplift/state.db; UPLIFT_DATABASE_URL for PostgreSQL)',
    )
    .option('--actor <name>', 'who runs it, for the audit (default $USER@host)')
    .option('--json', 'print the events, one JSON object per line, the last one the result')
    .option('--yes', 'do not ask for confirmation (required when standard input is not a terminal)')
    .addHelpText(
      'after',
      "\nProgress goes to standard error: one line per node, updated in place on a terminal, a line per event otherwise.\nExit codes: 0 passed, 1 failed or rolled back, 2 bad input, 3 the promotion gate refused (or a node's plan is blocked), 4 a deployment is claimed by another controller, 5 an earlier rollout was interrupted (use --resume), or this one was.\nExample: uplift rollout --env prod --topology uplift.yaml --dry-run",
    )
    .action(async (o) => {
      const { handler } = await import('./rollout.ts');
      const res = await handler(
        { ...o, deployment: o.deployment.length > 0 ? o.deployment : undefined },
        {
          stdout: io.stdout,
          stderr: io.stderr,
          stderrIsTty: process.stderr.isTTY === true,
          stdinIsTty: process.stdin.isTTY === true,
        },
      );
      emit(res, { json: o.json, jsonLines: true });
    });
}
