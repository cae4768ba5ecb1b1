import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp } from '../register.ts';

/** Registers `uplift resume`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('resume')
    .description(
      'End the run a crash left on an installation (read from its journal): finish it to its target, or with --abort take it back to the version it started from.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.run)
    .option(
      '--abort',
      'take the installation back to the version the run started from (its committed hops undone too) instead of finishing the run',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nWith --json, standard output is one JSON document: outcome (committed, rolled-back, aborted, or none when no run was interrupted), from and to (the run's), version (the installed version now), service; on failure error plus, where known, the same fields.\nBy default resume finishes the whole run to its target with the plan, packs (their SHA-256 checked again) and trust the run recorded when it began; no apply options are needed. It first waits for what the killed run left running (a stop waiting on transfers) and settles the hop the run was in. A hop that fails then takes the run back to its start version. Afterwards the service is as it was before the run (running and ready, or stopped), or resume says it is not and exits 1 (UPLIFT_APPLY_SERVICE_DOWN). Temporary files of killed commands (lock.tmp-*, a backup's temp archive and database copies) are removed when it takes the lock.\nExit codes: 0 done (or nothing to resume), 1 failed (the error says where the installation and its service are), 2 bad input, 4 another run holds the lock, 5 still incomplete: run it again.\nExamples: uplift resume --install /opt/product\n          uplift resume --install /opt/product --abort",
    )
    .action(async (o) => {
      const { handler } = await import('./resume.ts');
      emit(await handler(o, { stderr: io.stderr }), { json: o.json });
    });
}
