import type { Command } from '@commander-js/extra-typings';
import { allowUndeclaredHelp, type CommandContext, collect, profileHelp } from '../register.ts';

/** Registers `uplift paths`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  program
    .command('paths')
    .description('List every version reachable from the installed one, with its hops.')
    .option('--profile <name|dir>', profileHelp.install)
    .option('--install <dir>', 'detect the facts from this installation')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option(
      '--channel <name>',
      "list only the releases of this channel (default: the catalog's default)",
    )
    .option('--facts <file>', 'facts of the installation, YAML or JSON')
    .option('--fact <path=value>', 'set one fact (repeatable)', collect, [] as string[])
    .option('--allow-undeclared', allowUndeclaredHelp)
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { handler } = await import('./paths.ts');
      emit(await handler(o), { json: o.json });
    });
}
