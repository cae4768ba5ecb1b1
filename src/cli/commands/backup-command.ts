import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp, progressIo } from '../register.ts';

/** Registers `uplift backup`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('backup')
    .description(
      'Back up an installation (consistent, with a manifest of hashes, owners and modes), or verify a backup.',
    )
    .option('--install <dir>', 'installation directory to back up')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--out <file>', 'backup file (default: <install>/../<name>-backup-<timestamp>.tar.gz)')
    .option(
      '--stop',
      "stop a running service for an offline backup (the profile's lifecycle), start it after",
    )
    .option('--keep-stopped', 'with --stop: leave the service stopped afterwards')
    .option('--level <1-9>', 'gzip level (default 1: see docs/backup.md)')
    .option('--verify <file>', 're-read a backup and check every entry against its manifest')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or the backup is intact), 1 failed or damaged, 2 bad input, 5 a restore was interrupted.\nExamples: uplift backup --install /opt/product\n          uplift backup --verify /opt/product-backup-20250101T020000Z.tar.gz',
    )
    .action(async (o) => {
      const { handler } = await import('./backup.ts');
      emit(await handler(o, progressIo(io)), {
        json: o.json,
      });
    });
}
