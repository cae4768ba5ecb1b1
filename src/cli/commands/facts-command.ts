import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift facts`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('facts')
    .description(
      'Detect the facts of an installation: version, platform, owner, services, settings, data volumes and customized files.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option(
      '--vendor-manifest <file>',
      'vendor manifest of the installed version to compare files with (default: the one the profile names)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads only: nothing in the installation is written, databases are opened read-only.\nExit codes: 0 detected, 2 not an installation or an unreadable configuration file.\nExamples: uplift facts --install /opt/product\n          uplift facts --install /srv/product --profile ./profiles/product --json',
    )
    .action(async (o) => {
      const { handler } = await import('./facts.ts');
      emit(await handler(o), { json: o.json });
    });
}
