import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift resume`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('resume')
    .description('Finish or undo the run a crash left on an installation (read from its journal).')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.run)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or nothing to resume), 1 failed, 2 bad input, 4 another run holds the lock, 5 still incomplete: run it again.\nExample: uplift resume --install /opt/product',
    )
    .action(async (o) => {
      const { handler } = await import('./resume.ts');
      emit(await handler(o, { stderr: io.stderr }), { json: o.json });
    });
}
