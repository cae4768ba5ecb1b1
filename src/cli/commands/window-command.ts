import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, collect, profileHelp, progressIo } from '../register.ts';

/** Registers `uplift window`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('window')
    .description(
      'Propose maintenance windows: the quietest times in the transfer logs that fit the downtime, inside the allowed hours and outside blackout calendars.',
    )
    .option(
      '--install <dir>',
      "read the logs the installation's profile declares, and take the window's length from its plan",
    )
    .option('--profile <name|dir>', profileHelp.install)
    .option('--to <version>', 'with --install: the target version the plan is for', 'latest')
    .option(
      '--log <file...>',
      'transfer logs to read instead (xferlog, gzip or not, oldest first); needs --duration',
    )
    .option(
      '--duration <time>',
      "the window's length, e.g. 90m, 1h30m, 5400s (default with --install: the plan's downtime + validation + rollback)",
    )
    .option(
      '--calendar <file.ics>',
      'an iCalendar file of blackouts: no window overlaps its events (repeatable)',
      collect,
      [] as string[],
    )
    .option(
      '--allowed <rule>',
      'allowed hours, e.g. "Sat-Sun 00:00-06:00 Europe/Paris" or "Mon-Fri 22:00-04:00" (repeatable; default: any time)',
      collect,
      [] as string[],
    )
    .option('--weeks <n>', 'how many weeks ahead to search', '4')
    .option('--count <n>', 'how many windows to propose (at most one a day)', '3')
    .option('--from <iso>', 'search from this instant, e.g. 2026-11-02T00:00+01:00 (default: now)')
    .option(
      '--zone <iana>',
      "the zone the log's local times are written in (default: the profile's, else this machine's)",
    )
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON: the windows, the traffic summary and the search')
    .addHelpText(
      'after',
      '\nAllowed hours: DAYS [HH:MM-HH:MM] [ZONE]; days Mon..Sun as ranges or lists (Sat-Sun, Mon,Wed);\na span like 22:00-04:00 crosses midnight; ZONE is an IANA zone (default UTC). See docs/window.md.\nExit codes: 0 windows proposed, 2 bad input, 3 no window fits (the message says which constraint).\nExamples: uplift window --install /opt/product --allowed "Sat-Sun 00:00-06:00 Europe/Paris" --calendar freeze.ics\n          uplift window --log /var/log/xferlog --duration 1h30m --weeks 2',
    )
    .action(async (o) => {
      const { handler } = await import('./window.ts');
      emit(await handler(o, progressIo(io)), { json: o.json });
    });
}
