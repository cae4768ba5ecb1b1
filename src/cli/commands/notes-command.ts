import { type Command, Option } from '@commander-js/extra-typings';
import { allowUndeclaredHelp, type CommandContext, collect, profileHelp } from '../register.ts';

/** Registers `uplift notes`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('notes')
    .description('Digest the release notes of every release between two versions.')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--install <dir>', 'detect the facts from this installation')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option(
      '--channel <name>',
      "release channel the target is chosen in (default: the catalog's default)",
    )
    .option('--facts <file>', 'facts of the installation, to list what concerns it first')
    .option('--fact <path=value>', 'set one fact (repeatable)', collect, [] as string[])
    .option('--allow-undeclared', allowUndeclaredHelp)
    .addOption(
      new Option('--type <type...>', 'only these types').choices([
        'feature',
        'fixed',
        'limitation',
      ] as const),
    )
    .option('--component <name...>', 'only these components')
    .option('--security', 'only security entries')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { handler } = await import('./notes.ts');
      emit(await handler(o), { json: o.json });
    });
}
