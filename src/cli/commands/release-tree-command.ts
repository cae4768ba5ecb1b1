import type { Command } from '@commander-js/extra-typings';
import type { CommandContext } from '../register.ts';

/** Registers `uplift release-tree make`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('release-tree')
    .description('Make release trees: the files of one version, the input of uplift pack build.')
    .command('make')
    .description(
      'Write a release tree (OUT/tree and OUT/manifest.json) from any folder, such as a fresh installation, for uplift pack build --from-tree/--to-tree.',
    )
    .argument('<dir>', 'the folder to copy; it is only read')
    .requiredOption('--product <id>', 'product id, as its profile names it')
    .requiredOption('--version <version>', 'the version the folder holds')
    .requiredOption('--out <dir>', 'where to write the release tree; must not exist or be empty')
    .option(
      '--platform <id>',
      'the platform the folder is built for (e.g. linux-x86-64); packs built from the tree must be for it',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRegular files, symbolic links and empty directories are copied; a link must be relative and stay inside DIR. Modes a pack cannot carry (world-writable, setuid, setgid, sticky) are dropped and listed.\nExit codes: 0 written, 2 bad input (an unsafe link or special file: nothing is written).\nExample: uplift release-tree make /srv/product-2.1.0 --product product --version 2.1.0 --out rel/2.1.0',
    )
    .action(async (dir, o) => {
      const { handler } = await import('./release-tree.ts');
      emit(
        await handler(
          {
            dir,
            product: o.product,
            version: o.version,
            out: o.out,
            ...(o.platform !== undefined ? { platform: o.platform } : {}),
          },
          { stderr: io.stderr },
        ),
        { json: o.json },
      );
    });
}
