import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift fleet`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('fleet')
    .description(
      'Show every node of the topology: its version, whether it runs and is ready, drift within each deployment, and each environment’s last rollout.',
    )
    .option('--env <name>', 'only this environment')
    .option('--topology <file>', 'the topology file (default ./uplift.yaml)')
    .option('--inventory <file>', 'an Ansible inventory instead of the topology file')
    .option(
      '--state <file>',
      'the SQLite state store (default ./.uplift/state.db; UPLIFT_DATABASE_URL for PostgreSQL)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nEach node is asked through its agent (uplift service status), several at once; a node that cannot be reached is shown with its error code, not fatal. The state store is optional: without it the last runs are not shown.\nExit codes: 0 shown (even with unreachable nodes or drift), 2 bad input.\nExample: uplift fleet --env prod --json',
    )
    .action(async (o) => {
      const { handler } = await import('./fleet.ts');
      emit(await handler(o), { json: o.json });
    });
}
