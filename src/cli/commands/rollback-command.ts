import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift rollback`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('rollback')
    .description(
      'Undo the last committed upgrade of an installation (kept old generation, else its backup).',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option(
      '--run',
      "undo every hop of the last upgrade run still in, back to the version it started from (its first hop's backup)",
    )
    .option('--whole-run', 'the same as --run')
    .option(
      '--yes',
      'accepted for scripts; rollback does not ask for confirmation (a rollback only brings back a version that ran)',
    )
    .option('--profile <name|dir>', profileHelp.run)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nWith --json, standard output is one JSON document: outcome rolled-back, from (the version before), to and version (the version now), service (running or stopped, as before the rollback); on failure error.\nExit codes: 0 rolled back, 1 failed, 2 nothing to roll back, 4 another run holds the lock, 5 an interrupted run waits for uplift resume.\nExample: uplift rollback --install /opt/product\nExample: uplift rollback --install /opt/product --whole-run --yes --json',
    )
    .action(async (o) => {
      const { handler } = await import('./rollback.ts');
      emit(await handler(o, { stderr: io.stderr }), { json: o.json });
    });
}
