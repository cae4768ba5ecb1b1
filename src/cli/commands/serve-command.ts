import { type Command, Option } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

const stateHelp =
  'the SQLite state store (default ./.uplift/state.db; UPLIFT_DATABASE_URL for PostgreSQL)';

/** Registers `uplift serve` and `uplift serve token create|list|revoke`. */
export function register(program: Command, { emit, io }: CommandContext): void {
  const serve = program
    .command('serve')
    .description(
      'Serve the dashboard API (fleet, runs, audit, live run events, dry runs, rollout actions) over the state store, until Ctrl-C (SIGINT) or SIGTERM: running rollouts then stop between node actions.',
    )
    .option('--listen <host:port>', 'address to listen on (port 0: any free one)', '127.0.0.1:8080')
    .option('--tls-cert <file>', 'TLS certificate (PEM); required with --tls-key off loopback')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option('--state <file>', stateHelp)
    .option('--topology <file>', 'the topology file (default ./uplift.yaml)')
    .option(
      '--sign-in-link',
      'make an operator token for this run of the server and print a link that signs in with it once; the token is revoked when the server stops',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nBinds 127.0.0.1 by default; any other address needs --tls-cert and --tls-key. Sign in with a named token (uplift serve token create); the API is described in docs/api.md.\nExit codes: 0 served and stopped, 1 the address cannot be bound or the state store cannot be opened, 2 bad input.\nExample: uplift serve --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem',
    )
    .action(async (o) => {
      const { serve: run } = await import('./serve.ts');
      emit(await run(o, io), { json: o.json });
    });

  const token = serve
    .command('token')
    .description('Manage the named tokens that sign in to uplift serve.');
  token
    .command('create')
    .description('Create a named token and print it once; the store keeps only its hash.')
    .argument('<name>', 'the name the audit shows for every action taken with it')
    .addOption(
      new Option('--role <role>', 'viewer reads; operator also acts')
        .choices(['viewer', 'operator'] as const)
        .makeOptionMandatory(),
    )
    .option('--state <file>', stateHelp)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 created, 1 the state store cannot be opened, 2 bad input or the name is taken.\nExample: uplift serve token create alice --role operator',
    )
    .action(async (name, o) => {
      const { tokenCreate } = await import('./serve.ts');
      emit(await tokenCreate(name, o), { json: o.json });
    });
  token
    .command('list')
    .description('List the tokens: names, roles, when created and revoked (never a token).')
    .option('--state <file>', stateHelp)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 listed, 1 the state store cannot be opened.\nExample: uplift serve token list --json',
    )
    .action(async (o) => {
      const { tokenList } = await import('./serve.ts');
      emit(await tokenList(o), { json: o.json });
    });
  token
    .command('revoke')
    .description('Revoke a token: it cannot sign in, and its sessions end at their next request.')
    .argument('<name>', 'the token to revoke')
    .option('--state <file>', stateHelp)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 revoked, 1 the state store cannot be opened, 2 no live token has that name.\nExample: uplift serve token revoke alice',
    )
    .action(async (name, o) => {
      const { tokenRevoke } = await import('./serve.ts');
      emit(await tokenRevoke(name, o), { json: o.json });
    });
}
