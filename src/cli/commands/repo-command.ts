import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, collect } from '../register.ts';

/** Registers `uplift repo init|add|publish|rotate|serve`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  const repo = program
    .command('repo')
    .description(
      'Publish a repository of packs and catalogs with signed, versioned, expiring metadata.',
    );
  repo
    .command('init')
    .description(
      'Create a repository: root.json (version 1) with its keys, and an empty signed index.',
    )
    .argument('<dir>', 'repository folder (servable as a static HTTP site)')
    .option('--root-key <file>', 'root private key (.key), repeatable', collect, [] as string[])
    .option('--threshold <n>', 'root signatures needed to change the root (default 1)')
    .option(
      '--index-key <file>',
      'index key, .pub or .key (a .key also signs the first index), repeatable',
      collect,
      [] as string[],
    )
    .option('--index-threshold <n>', 'index signatures needed (default 1)')
    .option(
      '--pack-key <file>',
      'public key (.pub) that signs uplift packs, repeatable',
      collect,
      [] as string[],
    )
    .option('--expires <duration>', 'root lifetime, e.g. 365d', '365d')
    .option('--index-expires <duration>', 'lifetime of the first index', '7d')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 created, 2 bad input or the folder is already a repository.\nExample: uplift repo init ./repo --root-key root1.key --root-key root2.key --threshold 2 --index-key index.key --pack-key packs.pub',
    )
    .action(async (dir, o) => {
      const { init } = await import('./repo.ts');
      emit(await init(dir, o), { json: o.json });
    });
  repo
    .command('add')
    .description('Copy packs (or catalogs) into a repository; publish lists them in the index.')
    .argument('<dir>', 'repository folder')
    .argument('<files...>', 'packs (.upk, vendor zips) or, with --catalog, catalog files')
    .option('--catalog', 'the files are catalogs (catalogs/), not packs (packs/)')
    .option('--product <name>', 'product, when the file does not say it')
    .option('--platform <id>', 'platform of a pack that does not say it, e.g. linux-x86-64')
    .option('--from <range>', 'versions a pack upgrades from')
    .option('--to <version>', 'version a pack upgrades to')
    .option('--kind <kind>', 'full or delta')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nAn uplift pack (.upk) says its product, platform, from-range and version itself.\nExit codes: 0 added, 2 bad input or other bytes under an existing name (nothing is written).\nExample: uplift repo add ./repo product-1.4.1-from-1.4.0_linux-x86-64.upk',
    )
    .action(async (dir, files, o) => {
      const { add } = await import('./repo.ts');
      emit(await add(dir, files, o), { json: o.json });
    });
  repo
    .command('publish')
    .description(
      'Sign a new index (version + 1) listing every pack and catalog with size and SHA-256.',
    )
    .argument('<dir>', 'repository folder')
    .option(
      '--index-key <file>',
      'index private key (.key), repeatable up to the threshold',
      collect,
      [] as string[],
    )
    .option('--expires <duration>', 'index lifetime: clients refuse it after that', '7d')
    .option('--version <n>', 'index version (default: the current one + 1)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nPublish again before the index expires (e.g. daily from cron), or clients refuse it.\nExit codes: 0 published, 2 bad input, 3 too few index signatures.\nExample: uplift repo publish ./repo --index-key index.key --expires 7d',
    )
    .action(async (dir, o) => {
      const { publish } = await import('./repo.ts');
      emit(await publish(dir, o), { json: o.json });
    });
  repo
    .command('rotate')
    .description('Write the next root version: change root, index or pack keys and thresholds.')
    .argument('<dir>', 'repository folder')
    .option(
      '--sign <file>',
      'root private key (.key) to sign with, old and new, repeatable',
      collect,
      [] as string[],
    )
    .option(
      '--add-root-key <file>',
      'public key to add to the root role, repeatable',
      collect,
      [] as string[],
    )
    .option(
      '--remove-root-key <id>',
      'key id (or .pub) to remove from the root role, repeatable',
      collect,
      [] as string[],
    )
    .option('--threshold <n>', 'new root threshold')
    .option(
      '--index-key <file>',
      'the new index keys (.pub), replacing the old, repeatable',
      collect,
      [] as string[],
    )
    .option('--index-threshold <n>', 'new index threshold')
    .option(
      '--pack-key <file>',
      'the new pack keys (.pub), replacing the old, repeatable',
      collect,
      [] as string[],
    )
    .option('--expires <duration>', 'lifetime of the new root', '365d')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nThe new root must be signed by a threshold of the current root keys and of its own.\nExit codes: 0 rotated, 2 bad input, 3 too few signatures (nothing is written).\nExample: uplift repo rotate ./repo --sign root1.key --sign root2.key --sign root3.key --add-root-key root3.pub --remove-root-key root2.pub',
    )
    .action(async (dir, o) => {
      const { rotate } = await import('./repo.ts');
      emit(await rotate(dir, o), { json: o.json });
    });
  repo
    .command('serve')
    .description(
      'Serve a repository folder over HTTP, read-only, until Ctrl-C (SIGINT) or SIGTERM.',
    )
    .argument('<dir>', 'repository folder')
    .option('--host <address>', 'address to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port to listen on (default: a free one, printed)')
    .option(
      '--background',
      'start the server as a detached process, print its URL alone when it listens, and return',
    )
    .option('--pid-file <file>', "write the server's pid here (removed when it stops)")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nServes the files of the repository with their exact length and byte ranges (a fetch resumes); no folder listing, no dot files, nothing outside the folder.\nExit codes: 0 served and stopped (or started, with --background), 2 bad input or the port cannot be taken.\nExample: uplift repo serve ./repo --background --pid-file repo.pid',
    )
    .action(async (dir, o) => {
      const { serve } = await import('./repo-serve.ts');
      emit(await serve(dir, o, io), { json: o.json });
    });
}
