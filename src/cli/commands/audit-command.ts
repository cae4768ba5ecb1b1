import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift audit`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('audit')
    .description('Show the audit log of the state store: who did what, when, with what outcome.')
    .option('--env <name>', 'only this environment')
    .option('--run <id>', 'only this rollout run')
    .option('--deployment <name>', 'only this deployment')
    .option(
      '--since <iso>',
      'only entries at or after this time (ISO 8601, e.g. 2025-01-31T08:00:00Z)',
    )
    .option('--limit <n>', 'only the newest N entries (still shown oldest first)')
    .option(
      '--state <file>',
      'the SQLite state store (default ./.uplift/state.db; UPLIFT_DATABASE_URL for PostgreSQL)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 shown (also when nothing matched), 1 the state store cannot be read, 2 bad input.\nExample: uplift audit --env prod --since 2025-01-31T00:00:00Z',
    )
    .action(async (o) => {
      const { handler } = await import('./audit.ts');
      emit(await handler(o), { json: o.json });
    });
}
