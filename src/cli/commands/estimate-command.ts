import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, collect, profileHelp } from '../register.ts';

/** Registers `uplift estimate`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('estimate')
    .description(
      'Estimate how long an upgrade takes (downtime, total, validate, rollback; p50 and p90), learned from measured runs of the same hops.',
    )
    .requiredOption(
      '--install <dir>',
      'the installation to estimate (its own history is learned from)',
    )
    .option('--profile <name|dir>', profileHelp.install)
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option(
      '--learn-from <dir>',
      'also learn from the runs of this installation (test, preprod; repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--fact <path=value>',
      'set one fact, e.g. --fact data.fileTrackingRows=2000000 (repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--state <file>',
      'share measured runs through this SQLite state store (UPLIFT_DATABASE_URL for PostgreSQL)',
    )
    .option('--accuracy', 'show each run beside the estimate made before it, and the error')
    .option('--no-record', 'do not keep this estimate for --accuracy')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      [
        '',
        "The estimate starts from the catalog's durations scaled by the facts, and is calibrated by the",
        "measured step timings of earlier runs of the same hop (this installation's history and those",
        'of --learn-from), scaled by the data-volume ratio. It is kept beside the installation',
        '(estimates.jsonl) so that --accuracy can compare it with the run that follows.',
        "With a state store (--state, UPLIFT_DATABASE_URL) the installation's measured runs are added",
        'to it and the runs of the same hops it holds from other environments are learned from too.',
        '',
        'Exit codes: 0 estimated, 1 the state store cannot be used, 2 bad input.',
        'Examples: uplift estimate --install /opt/product --learn-from /srv/preprod/product',
        '          uplift estimate --install /opt/product --accuracy',
      ].join('\n'),
    )
    .action(async (o) => {
      const { handler } = await import('./estimate.ts');
      emit(await handler(o), { json: o.json });
    });
}
