import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp, progressIo } from '../register.ts';

/** Registers `uplift pack build|verify|inspect`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  const pack = program
    .command('pack')
    .description('Build, verify and inspect signed upgrade packs (docs/pack-format.md).');
  pack
    .command('build')
    .description('Build a signed pack (full or delta) from two release trees; deterministic.')
    .requiredOption('--from-tree <dir>', 'release tree of the version to upgrade from')
    .requiredOption('--to-tree <dir>', 'release tree of the version to upgrade to')
    .requiredOption('--platform <id>', 'platform the pack is for, e.g. linux-x86-64')
    .option('--delta', 'only the files that changed (default: every file of the to tree)')
    .requiredOption('--key <file>', 'private key (.key from uplift keys generate)')
    .requiredOption('--out <file>', 'pack file to write (atomically)')
    .option('--build <n>', 'build number', '1')
    .option(
      '--from-range <pattern>',
      'versions it applies to (default: the from version for --delta, ">=FROM, <TO" for full)',
    )
    .option('--migrations <file>', 'config/database migrations and hooks, YAML')
    .option('--created <time>', 'ISO time to record (default: from the to tree)')
    .option(
      '--workers <n>',
      'compression threads (or UPLIFT_PACK_WORKERS; default one per core); the bytes do not depend on it',
    )
    .option(
      '--profile <name|dir>',
      "the product's profile, for its version scheme (default: the profile named as the product)",
    )
    .option(
      '--sha256',
      "also compute and print the whole pack file's SHA-256 (one more hash of every byte; repo add computes its own)",
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 built, 2 bad input (trees that disagree with their manifests, a bad range or key).\nExample: uplift pack build --from-tree rel/1.4.0 --to-tree rel/1.4.1 --platform linux-x86-64 --delta --key release.key --out product-1.4.1-from-1.4.0_linux-x86-64.upk',
    )
    .action(async (o) => {
      const { build } = await import('./pack.ts');
      emit(await build(o), { json: o.json });
    });
  pack
    .command('verify')
    .description(
      'Verify a pack: signature and trust, manifest, fit with the installation, every payload byte.',
    )
    .argument('<file>', 'pack file')
    .option('--trust <keys>', 'trusted keys: a .pub, a trust file or a directory (or UPLIFT_TRUST)')
    .option('--install <dir>', 'check the pack fits this installation (product, version, platform)')
    .option('--profile <name|dir>', `with --install: ${profileHelp.install}`)
    .option('--platform <id>', 'check the pack is for this platform')
    .option('--stage <dir>', 'also write the payload files into this new directory')
    .option(
      '--max-expand <ratio>',
      'allow a pack to declare up to RATIO unpacked bytes per compressed byte (default 200)',
    )
    .option(
      '--sha256',
      "also compute and print the whole pack file's SHA-256 (one more hash of every byte)",
    )
    .option('--catalog <file>', "vendor zips: a catalog file to use instead of the profile's")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nNothing is written unless --stage is given; on any failure the staging directory is removed.\nA vendor's own pack (a zip the catalog lists) is recognised by its name and checked as `uplift vendor-pack verify` does: no uplift signature, the catalog's size and checksums, platform, hop and shape.\nExit codes: 0 verified, 1 damaged or unsafe pack, 2 bad input or no trust, 3 refused by policy (untrusted or revoked key, wrong platform, wrong from-version, downgrade).\nExample: uplift pack verify product-2.0.0-from-1.4.0_linux-x86-64.upk --trust keys/ --install /opt/product",
    )
    .action(async (file, o) => {
      const { verify } = await import('./pack.ts');
      emit(await verify(file, o, progressIo(io)), { json: o.json });
    });
  pack
    .command('inspect')
    .description('Show what a pack says it holds, without verifying it.')
    .argument('<file>', 'pack file')
    .option('--json', 'print JSON (the whole manifest)')
    .addHelpText(
      'after',
      '\nInspection is not verification: the signature is shown, not checked.\nExit codes: 0 shown, 1 not a readable pack, 2 bad input.\nExample: uplift pack inspect product-2.0.0-from-1.4.0_linux-x86-64.upk --json',
    )
    .action(async (file, o) => {
      const { inspect } = await import('./pack.ts');
      emit(await inspect(file), { json: o.json });
    });
}
