import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift history`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('history')
    .description('List the runs of apply and rollback on an installation.')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.run)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 listed, 2 bad input.\nExample: uplift history --install /opt/product --json',
    )
    .action(async (o) => {
      const { handler } = await import('./history.ts');
      emit(await handler(o), { json: o.json });
    });
}
