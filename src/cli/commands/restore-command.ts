import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp, progressIo } from '../register.ts';

/** Registers `uplift restore`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('restore')
    .description(
      'Restore an installation from a backup: verified first, swapped in whole, exactly the backed-up tree.',
    )
    .argument('<backup>', 'backup file written by uplift backup')
    .requiredOption('--install <dir>', 'installation directory to restore (may be missing)')
    .option('--profile <name|dir>', profileHelp.run)
    .option('--stop', "stop the running service (the profile's lifecycle) just before the swap")
    .option('--start', "start the restored installation's service (the profile's lifecycle)")
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 restored, 1 failed with the installation intact, 2 bad input, 5 interrupted: run the same command again.\nExample: uplift restore /opt/product-backup-20250101T020000Z.tar.gz --install /opt/product --stop --start',
    )
    .action(async (backup, o) => {
      const { handler } = await import('./restore.ts');
      emit(await handler(backup, o, progressIo(io)), { json: o.json });
    });
}
