import { type Command, Option } from '@commander-js/extra-typings';
import { type CommandContext, factOptions, profileHelp } from '../register.ts';

/** Registers `uplift check`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  const command = program
    .command('check')
    .description(
      'Run the pre-upgrade checks on an installation: each passes, warns or fails with what to do.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option(
      '--channel <name>',
      "release channel the target is chosen in (default: the catalog's default)",
    )
    .option(
      '--vendor-manifest <file>',
      'vendor manifest of the installed version, to find changed files',
    );
  factOptions(command)
    .option('--only <ids>', 'run only these checks, comma-separated (e.g. owner,disk-space)')
    .addOption(
      new Option('--for <step>', 'the step to check for: prepare (staging, backup) or downtime')
        .choices(['prepare', 'downtime'] as const)
        .default('prepare' as const),
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing failed, 2 bad input, 3 a check failed.\nExample: uplift check --install /opt/product --to 2.0.0',
    )
    .action(async (o) => {
      const { handler } = await import('./check.ts');
      emit(await handler(o), { json: o.json });
    });
}
