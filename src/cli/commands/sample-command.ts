import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift sample`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('sample')
    .description(
      "Create, start or reuse a sample installation of an older version, filled with realistic data (the profile's sample: section).",
    )
    .option(
      '--profile <name|dir>',
      `${profileHelp.plain} (default: the only profile that declares a sample)`,
    )
    .option('--dir <dir>', 'working folder of the sample (default: .uplift/sample)')
    .option('--version <version>', "version of a new sample (default: the profile's choice)")
    .option(
      '--topology <file>',
      'also write a topology there whose one environment, sample, is this installation (kept if the file exists)',
    )
    .option('--stop', 'stop the sample server')
    .option(
      '--reset',
      'stop the sample and make it again at its first version (what the profile keeps, such as its keys, is said in the profile)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRunning it again reuses the installation (and starts it if it was stopped); --reset starts over.\nExit codes: 0 ready (or stopped), 1 the sample failed, 2 bad input.\nExample: uplift sample --dir /tmp/sample --version 1.4.0',
    )
    .action(async (o) => {
      const { handler } = await import('./sample.ts');
      emit(await handler(o), { json: o.json });
    });
}
