import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift topology check`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  const topology = program
    .command('topology')
    .description('Work with the topology: environments, deployments and nodes (docs/topology.md).');
  topology
    .command('check')
    .description(
      'Read and check the topology; print its environments, deployments and nodes, or the problem at file:line:col.',
    )
    .option('--topology <file>', 'the topology file (default: uplift.yaml in the working folder)')
    .option('--inventory <file>', 'an Ansible inventory (YAML or INI) instead of the topology file')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 valid, 2 invalid (nothing is changed either way).\nExample: uplift topology check --inventory hosts.yml',
    )
    .action(async (o) => {
      const { handler } = await import('./topology.ts');
      emit(await handler(o), { json: o.json });
    });
}
