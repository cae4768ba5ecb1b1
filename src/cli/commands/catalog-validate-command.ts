import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift catalog validate`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  const catalog = program.command('catalog').description('Work with catalog files.');
  catalog
    .command('validate')
    .description('Check a catalog file; errors name file:line:col, the field, and what to do.')
    .argument('<file>', 'catalog YAML file')
    .option(
      '--profile <name|dir>',
      'also check what the catalog asks of this profile: its settle checks and the facts its formulas read',
    )
    .option('--json', 'print JSON')
    .action(async (file, o) => {
      const { handler } = await import('./catalog-validate.ts');
      emit(await handler(file, o.profile), { json: o.json });
    });
}
