import { type Command, Option } from '@commander-js/extra-typings';
import { UpliftError } from '../../errors/index.ts';
import { type CommandContext, collect, factOptions, profileHelp } from '../register.ts';

/** Registers `uplift check`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  const command = program
    .command('check')
    .description(
      'Run the pre-upgrade checks on an installation, or on every node of an environment of the topology: each passes, warns or fails with what to do.',
    )
    .option('--install <dir>', 'installation directory')
    .option(
      '--env <name>',
      "check every node of this environment of the topology (instead of --install): reachable, its Node runtime, then its own checks to its deployment's target",
    )
    .option(
      '--deployment <name>',
      'with --env: only this deployment (repeatable; default all of the environment)',
      collect,
      [] as string[],
    )
    .option('--topology <file>', 'with --env: the topology file (default ./uplift.yaml)')
    .option('--inventory <file>', 'with --env: an Ansible inventory instead of the topology file')
    .option('--concurrency <n>', 'with --env: nodes checked at once (default 10)')
    .option(
      '--state <file>',
      "with --env: the SQLite state store that keeps each node's last check (default ./.uplift/state.db; UPLIFT_DATABASE_URL for PostgreSQL)",
    )
    .option('--profile <name|dir>', profileHelp.install)
    .option('--to <version>', 'target version, or "latest" (default latest)')
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
      "\nWith --env each node is reached through its agent (an SSH node gets uplift's kit; nothing else changes on it); a node that cannot be reached, or whose Node cannot run uplift (UPLIFT_NODE_RUNTIME), is a failed check of that node.\nExit codes: 0 nothing failed, 2 bad input, 3 a check failed.\nExample: uplift check --install /opt/product --to 2.0.0\nExample: uplift check --env prod --topology uplift.yaml",
    )
    .action(async (o) => {
      const usage = (message: string, hint: string) =>
        new UpliftError('UPLIFT_USAGE', message, { hint, unchanged: true });
      if (o.env !== undefined) {
        if (o.install !== undefined)
          throw usage(
            '--install and --env were both given',
            'check one installation with --install, or every node of an environment with --env',
          );
        const single = (
          [
            ['--profile', o.profile],
            ['--to', o.to],
            ['--channel', o.channel],
            ['--vendor-manifest', o.vendorManifest],
            ['--facts', o.facts],
            ['--fact', o.fact.length > 0 ? o.fact : undefined],
          ] as const
        ).filter(([, v]) => v !== undefined);
        if (single.length > 0)
          throw usage(
            `${single.map(([n]) => n).join(', ')} ${single.length === 1 ? 'goes' : 'go'} with --install, not --env`,
            "with --env each deployment's profile, target and channel come from the topology: leave them out",
          );
        const { handler } = await import('./check-env.ts');
        emit(
          await handler({
            env: o.env,
            ...(o.deployment.length > 0 ? { deployment: o.deployment } : {}),
            ...(o.topology === undefined ? {} : { topology: o.topology }),
            ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
            ...(o.state === undefined ? {} : { state: o.state }),
            ...(o.concurrency === undefined ? {} : { concurrency: o.concurrency }),
            ...(o.only === undefined ? {} : { only: o.only }),
            for: o.for,
          }),
          { json: o.json },
        );
        return;
      }
      if (o.install === undefined)
        throw usage(
          'uplift check needs --install or --env',
          'give --install with the installation folder, or --env with an environment of the topology',
        );
      const envOnly = (
        [
          ['--deployment', o.deployment.length > 0 ? o.deployment : undefined],
          ['--topology', o.topology],
          ['--inventory', o.inventory],
          ['--concurrency', o.concurrency],
          ['--state', o.state],
        ] as const
      ).filter(([, v]) => v !== undefined);
      if (envOnly.length > 0)
        throw usage(
          `${envOnly.map(([n]) => n).join(', ')} ${envOnly.length === 1 ? 'goes' : 'go'} with --env, not --install`,
          'leave them out, or give --env instead of --install to check the nodes of an environment',
        );
      const { handler } = await import('./check.ts');
      emit(await handler({ ...o, install: o.install, to: o.to ?? 'latest' }), { json: o.json });
    });
}
