import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift status`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('status')
    .description('Show where the current run on an installation stands, and what resume would do.')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.run)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 idle or running, 2 bad input, 5 an interrupted run waits for uplift resume.\nExample: uplift status --install /opt/product',
    )
    .action(async (o) => {
      const { handler } = await import('./status.ts');
      emit(await handler(o), { json: o.json });
    });
}
