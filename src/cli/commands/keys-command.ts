import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift keys generate`; the handler is imported when the command runs. */
export function register(program: Command, { emit }: CommandContext): void {
  const keys = program.command('keys').description('Make signing keys for packs and repositories.');
  keys
    .command('generate')
    .description('Generate an ed25519 key pair: BASE.key (private, 0600) and BASE.pub (public).')
    .requiredOption('--out <base>', 'path and base name of the two files (never overwritten)')
    .option('--name <name>', 'a name recorded in the .pub file')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 written, 2 a key file already exists.\nExample: uplift keys generate --out keys/release-2025 --name "release 2025"',
    )
    .action(async (o) => {
      const { generate } = await import('./keys.ts');
      emit(await generate(o), { json: o.json });
    });
}
