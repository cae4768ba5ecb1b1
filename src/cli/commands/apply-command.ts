import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, factOptions, profileHelp } from '../register.ts';

/** Registers `uplift apply`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  const command = program
    .command('apply')
    .description(
      'Upgrade an installation along its plan: verify, stage (service running), back up, stop, switch, migrate, start, probe, smoke-test, commit; roll back on any failure.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--to <version>', 'target version ("latest"), planned now from the detected facts')
    .option(
      '--channel <name>',
      "with --to: release channel the target is chosen in (default: the catalog's default)",
    )
    .option(
      '--plan <file>',
      'a saved plan (uplift plan --format json); refused if it no longer matches',
    );
  factOptions(command)
    .option(
      '--accept-risk <reason>',
      'go ahead with a not-recommended verdict; the reason is journaled with the run',
    )
    .option('--packs <dir>', 'folder holding the packs (default: the fetch cache, <cache>/packs)')
    .option('--trust <file>', 'trusted keys for pack signatures (default: $UPLIFT_TRUST)')
    .option(
      '--max-expand <ratio>',
      'allow a pack to declare up to RATIO unpacked bytes per compressed byte (default 200)',
    )
    .option(
      '--base-tree <dir>',
      'release tree of the installed version: the merge base when apply has none yet',
    )
    .option(
      '--catalog <file>',
      "vendor-installer products: the catalog to check the vendor's zips against (default: the profile's)",
    )
    .option(
      '--keep-runs <n>',
      "keep the backups of this many runs, this one included (default 3); of this run only the first and last hop's",
    )
    .option(
      '--leave-stopped',
      'after a successful commit leave the services stopped (the new version is still started, probed and smoke-tested first; a rollback leaves them as it found them)',
    )
    .option('--yes', 'do not ask for confirmation (required when standard input is not a terminal)')
    .option(
      '--dry-run',
      'verify and stage in a temporary folder, print what would change, change nothing',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nThe profile's apply.method picks how a hop runs: uplift-pack (signed packs, staged tree switched by rename) or vendor-installer (the vendor zip's UpgradeStep1 then UpgradeStep2 through its update.sh, both directories backed up and restored on failure). Run as the installation's owner; root on a non-root installation runs as its owner; anyone else is refused (exit 3).\nThe plan's verdict comes first: blocked refuses (nothing is changed), not-recommended needs --accept-risk REASON. The profile used is recorded beside the installation, for resume, rollback, status and history.\nWith --json, standard output is one JSON document: on success outcome committed, from, to, version, service; on failure error plus outcome (aborted, rolled-back or incomplete), from, to, version, service.\nExit codes: 0 done, 1 failed and rolled back (the old version runs), 2 bad input, 3 blocked (verdict blocked or not accepted, conflict, plan mismatch, manual step, wrong user), 4 another run holds the lock, 5 an earlier run was interrupted: run uplift resume.\nExample: uplift apply --install /opt/product --to latest --packs ./packs --trust keys.json --yes",
    )
    .action(async (o) => {
      const { handler } = await import('./apply.ts');
      emit(await handler(o, { stderr: io.stderr, stdinIsTty: process.stdin.isTTY === true }), {
        json: o.json,
      });
    });
}
