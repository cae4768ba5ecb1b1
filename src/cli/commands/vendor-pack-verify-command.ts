import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, progressIo } from '../register.ts';

/** Registers `uplift vendor-pack verify`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('vendor-pack')
    .description(
      "Check the vendor's own upgrade packs (zips run by the vendor's installer, listed in the catalog).",
    )
    .command('verify')
    .description(
      "Verify a vendor pack before use: the catalog's pack for its release, platform and hop, size, checksums, and a safe zip of the documented shape.",
    )
    .argument('<file>', 'the downloaded pack, under the name the vendor published')
    .option(
      '--profile <name|dir>',
      'product profile whose vendorPacks names the pack and whose catalog lists it (default: the profile whose vendorPacks.name pattern matches the name)',
    )
    .option('--catalog <file>', "a catalog file to use instead of the profile's")
    .option('--platform <id>', "this node's platform, e.g. linux-x86-64: the pack must be for it")
    .option('--installed <version>', 'the installed version: the pack must upgrade from it')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads only: nothing is extracted or written.\nExit codes: 0 verified, 1 damaged (size, checksum, zip), 2 bad input (unrecognised name), 3 not for this catalog, platform or hop, or no checksum to check.\nA vendor pack is named as the vendorPacks.name pattern of its profile says.\nExample: uplift vendor-pack verify Product_2.0_UP1-from-1.4_linux-x86-64_BN100.zip --profile product --platform linux-x86-64 --installed "1.4 Patch 3"',
    )
    .action(async (file, o) => {
      const { handler } = await import('./vendor-pack-verify.ts');
      emit(await handler(file, o, progressIo(io)), { json: o.json });
    });
}
