import { type Command, Option } from '@commander-js/extra-typings';
import {
  allowUndeclaredHelp,
  type CommandContext,
  collect,
  prepareOut,
  profileHelp,
} from '../register.ts';

/** Registers `uplift plan`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('plan')
    .description(
      'Plan an upgrade: path, notes digest, incompatibilities, tasks, time estimate and verdict.',
    )
    .option('--profile <name|dir>', profileHelp.install)
    .option(
      '--install <dir>',
      'detect the facts from this installation (--facts, --fact go on top)',
    )
    .option('--vendor-manifest <file>', 'with --install: the vendor manifest to compare files with')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option(
      '--channel <name>',
      "release channel the target is chosen in (stable, fast, …; default: the catalog's default)",
    )
    .option('--facts <file>', 'facts of the installation, YAML or JSON')
    .option(
      '--fact <path=value>',
      'set one fact, e.g. --fact database.type=oracle (repeatable)',
      collect,
      [] as string[],
    )
    .option('--allow-undeclared', allowUndeclaredHelp)
    .option(
      '--ask',
      'ask for each fact the plan is missing (on standard input; empty skips), then plan again',
    )
    .addOption(
      new Option(
        '--format <format>',
        'output format; html: one self-contained file for a change board (with --out)',
      )
        .choices(['text', 'json', 'markdown', 'html'] as const)
        .default('text' as const),
    )
    .option('--json', 'same as --format json')
    .option('--out <file>', 'write the output to a file instead of standard output')
    .option(
      '--report <file>',
      'also write the report to this file: HTML when it ends in .html, else Markdown (repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--checks <file>',
      'the report shows these check results: uplift check --json saved in a file, for the same upgrade',
    )
    .option(
      '--windows <file>',
      'the report shows these windows and their traffic heat map: uplift window --json saved in a file',
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 planned, 2 bad input, 3 verdict blocked.\nExamples: uplift plan --install /opt/product\n          uplift plan --install /opt/product --format html --out report.html\n          uplift plan --profile ./profiles/product --from 1.4.0 --to 2.0.0',
    )
    .action(async (o) => {
      if (o.out !== undefined) await prepareOut(o.out);
      for (const file of o.report) await prepareOut(file, '--report');
      const { handler } = await import('./plan.ts');
      const format = o.json ? 'json' : o.format;
      emit(await handler({ ...o, format }), { format, out: o.out });
    });
}
