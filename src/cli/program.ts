import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { ExitCode, ExitError, UpliftError } from '../errors/index.ts';
import { writeAtomically } from '../util/index.ts';
import type { CliIo, CommandResult } from './types.ts';
import { formatError, formatInternalError } from './ui/format-error.ts';

export const version = '0.1.0';

interface OutputOptions {
  json?: boolean;
  format?: 'text' | 'json' | 'markdown';
  out?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Runs the CLI and returns the exit code; only `main.ts` turns it into the process's exit code.
 * Command modules are imported lazily so `uplift --help` and each command load only what they use.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const wantsJson =
    argv.includes('--json') ||
    argv.some((a, i) => (a === '--format' && argv[i + 1] === 'json') || a === '--format=json');
  const program = new Command()
    .name('uplift')
    .description('Plans and carries out upgrades of server software installations.')
    .version(version)
    // Program options only before the command name, so a command may have its own --version.
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  let result: { res: CommandResult; out: OutputOptions } | undefined;
  const emit = (res: CommandResult, out: OutputOptions) => {
    result = { res, out };
  };

  program
    .command('plan')
    .description(
      'Plan an upgrade: path, notes digest, incompatibilities, tasks, time estimate and verdict.',
    )
    .option(
      '--profile <name>',
      'product profile, a built-in name or a profile folder (default with --install: recognised from the installation)',
    )
    .option(
      '--install <dir>',
      'detect the facts from this installation (--facts, --fact go on top)',
    )
    .option('--vendor-manifest <file>', 'with --install: the vendor manifest to compare files with')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option('--facts <file>', 'facts of the installation, YAML or JSON')
    .option(
      '--fact <path=value>',
      'set one fact, e.g. --fact database.type=oracle (repeatable)',
      collect,
      [] as string[],
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['text', 'json', 'markdown'] as const)
        .default('text' as const),
    )
    .option('--json', 'same as --format json')
    .option('--out <file>', 'write the output to a file instead of standard output')
    .option('--report <file>', 'also write the Markdown report to this file')
    .addHelpText(
      'after',
      '\nExit codes: 0 planned, 2 bad input, 3 verdict blocked.\nExamples: uplift plan --install /opt/skiff\n          uplift plan --profile securetransport --from "5.3.0 Patch 3" --to 5.5',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/plan.ts');
      const format = o.json ? 'json' : o.format;
      emit(await handler({ ...o, format }), { format, out: o.out });
    });

  program
    .command('paths')
    .description('List every version reachable from the installed one, with its hops.')
    .option('--profile <name>', 'product profile (default with --install: recognised)')
    .option('--install <dir>', 'detect the facts from this installation')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option('--facts <file>', 'facts of the installation, YAML or JSON')
    .option('--fact <path=value>', 'set one fact (repeatable)', collect, [] as string[])
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { handler } = await import('./commands/paths.ts');
      emit(await handler(o), { json: o.json });
    });

  program
    .command('notes')
    .description('Digest the release notes of every release between two versions.')
    .option('--profile <name>', 'product profile (default with --install: recognised)')
    .option('--install <dir>', 'detect the facts from this installation')
    .option('--from <version>', 'installed version (default: the version in the facts)')
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option('--facts <file>', 'facts of the installation, to list what concerns it first')
    .option('--fact <path=value>', 'set one fact (repeatable)', collect, [] as string[])
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
      const { handler } = await import('./commands/notes.ts');
      emit(await handler(o), { json: o.json });
    });

  const catalog = program.command('catalog').description('Work with catalog files.');
  catalog
    .command('validate')
    .description('Check a catalog file; errors name file:line:col, the field, and what to do.')
    .argument('<file>', 'catalog YAML file')
    .option('--json', 'print JSON')
    .action(async (file, o) => {
      const { handler } = await import('./commands/catalog-validate.ts');
      emit(await handler(file), { json: o.json });
    });

  program
    .command('profiles')
    .description('List the built-in product profiles.')
    .option('--json', 'print JSON')
    .action(async (o) => {
      const { handler } = await import('./commands/profiles.ts');
      emit(await handler(), { json: o.json });
    });

  program
    .command('check')
    .description(
      'Run the pre-upgrade checks on an installation: each passes, warns or fails with what to do.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--profile <name>', 'product profile (default: recognised from the installation)')
    .option('--to <version>', 'target version, or "latest"', 'latest')
    .option(
      '--vendor-manifest <file>',
      'vendor manifest of the installed version, to find changed files',
    )
    .option('--facts <file>', 'facts uplift cannot read itself (a database version), YAML or JSON')
    .option(
      '--fact <path=value>',
      'set one fact, e.g. --fact database.version=14 (repeatable)',
      collect,
      [] as string[],
    )
    .option('--only <ids>', 'run only these checks, comma-separated (e.g. owner,disk-space)')
    .addOption(
      new Option('--for <step>', 'the step to check for: prepare (staging, backup) or downtime')
        .choices(['prepare', 'downtime'] as const)
        .default('prepare' as const),
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 nothing failed, 2 bad input, 3 a check failed.\nExample: uplift check --install /opt/skiff --to "5.5 GA"',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/check.ts');
      emit(await handler(o), { json: o.json });
    });

  program
    .command('facts')
    .description(
      'Detect the facts of an installation: version, platform, owner, services, settings, data volumes and customized files.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option(
      '--profile <name>',
      'product profile (default: the built-in profile whose version file the installation has)',
    )
    .option(
      '--vendor-manifest <file>',
      'vendor manifest of the installed version to compare files with (default: the one the profile names)',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads only: nothing in the installation is written, databases are opened read-only.\nExit codes: 0 detected, 2 not an installation or an unreadable configuration file.\nExamples: uplift facts --install /opt/skiff\n          uplift facts --install /opt/Axway/SecureTransport --profile securetransport --json',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/facts.ts');
      emit(await handler(o), { json: o.json });
    });

  program
    .command('sample')
    .description(
      'Create, start or reuse a sample skiff installation of an older version, filled with realistic data.',
    )
    .option('--dir <dir>', 'working folder of the sample (default: .uplift/sample)')
    .option('--version <version>', 'skiff version of a new sample (default: 5.3.0 Patch 1)')
    .option('--stop', 'stop the sample server')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nRunning it again reuses the installation (and starts it if it was stopped).\nExample: uplift sample --version "5.3.0 Patch 2"',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/sample.ts');
      emit(await handler(o), { json: o.json });
    });

  program
    .command('backup')
    .description(
      'Back up an installation (consistent, with a manifest of hashes, owners and modes), or verify a backup.',
    )
    .option('--install <dir>', 'installation directory to back up')
    .option('--out <file>', 'backup file (default: <install>/../<name>-backup-<timestamp>.tar.gz)')
    .option('--stop', 'stop a running service for an offline backup (bin/stop_all), start it after')
    .option('--keep-stopped', 'with --stop: leave the service stopped afterwards')
    .option('--level <1-9>', 'gzip level (default 1: see docs/backup.md)')
    .option('--verify <file>', 're-read a backup and check every entry against its manifest')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or the backup is intact), 1 failed or damaged, 2 bad input, 5 a restore was interrupted.\nExamples: uplift backup --install /opt/skiff\n          uplift backup --verify /opt/skiff-backup-20250101T020000Z.tar.gz',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/backup.ts');
      emit(await handler(o, { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true }), {
        json: o.json,
      });
    });

  program
    .command('restore')
    .description(
      'Restore an installation from a backup: verified first, swapped in whole, exactly the backed-up tree.',
    )
    .argument('<backup>', 'backup file written by uplift backup')
    .requiredOption('--install <dir>', 'installation directory to restore (may be missing)')
    .option('--stop', 'stop the running service (bin/stop_all) just before the swap')
    .option('--start', 'start the restored installation (bin/start_all)')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 restored, 1 failed with the installation intact, 2 bad input, 5 interrupted: run the same command again.\nExample: uplift restore /opt/skiff-backup-20250101T020000Z.tar.gz --install /opt/skiff --stop --start',
    )
    .action(async (backup, o) => {
      const { handler } = await import('./commands/restore.ts');
      emit(
        await handler(backup, o, { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true }),
        { json: o.json },
      );
    });

  program
    .command('vendor-pack')
    .description("Check the vendor's own upgrade packs (securetransport's UpgradeStep1/2 zips).")
    .command('verify')
    .description(
      "Verify a vendor pack before use: the catalog's pack for its release, platform and hop, size, checksums, and a safe zip of the documented shape.",
    )
    .argument('<file>', 'the downloaded pack, under the name the vendor published')
    .option(
      '--profile <name>',
      'product profile whose catalog lists the pack (default: from the name)',
    )
    .option('--catalog <file>', "a catalog file to use instead of the profile's")
    .option('--platform <id>', "this node's platform, e.g. linux-x86-64: the pack must be for it")
    .option('--installed <version>', 'the installed version: the pack must upgrade from it')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nReads only: nothing is extracted or written.\nExit codes: 0 verified, 1 damaged (size, checksum, zip), 2 bad input (unrecognised name), 3 not for this catalog, platform or hop, or no checksum to check.\nExample: uplift vendor-pack verify SecureTransport_5.5_UP1-from-5.4_linux-x86-64_BN2306.zip --platform linux-x86-64 --installed "5.4 Patch 35"',
    )
    .action(async (file, o) => {
      const { handler } = await import('./commands/vendor-pack-verify.ts');
      emit(
        await handler(file, o, { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true }),
        { json: o.json },
      );
    });

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
      const { init } = await import('./commands/repo.ts');
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
      '\nAn uplift pack (.upk) says its product, platform, from-range and version itself.\nExit codes: 0 added, 2 bad input or other bytes under an existing name (nothing is written).\nExample: uplift repo add ./repo skiff-5.3.0-Patch-1-from-5.3.0_linux-x86-64.upk',
    )
    .action(async (dir, files, o) => {
      const { add } = await import('./commands/repo.ts');
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
      const { publish } = await import('./commands/repo.ts');
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
      const { rotate } = await import('./commands/repo.ts');
      emit(await rotate(dir, o), { json: o.json });
    });

  program
    .command('fetch')
    .description(
      "Download exactly the packs a plan needs for this node's platform, resumable and verified.",
    )
    .option('--install <dir>', 'plan from this installation')
    .option('--to <version>', 'target version, or "latest" (with --install)', 'latest')
    .option('--profile <name>', 'product profile (default: recognised from the installation)')
    .option('--plan <file>', 'a saved plan (uplift plan --json) instead of --install')
    .requiredOption('--repo <url|dir>', 'repository: an http(s):// URL or a folder')
    .option('--root <file>', "the repository's root.json, obtained out of band (first use)")
    .option(
      '--out <dir>',
      'where the packs go (default: <cache>/packs, e.g. ~/.cache/uplift/packs)',
    )
    .option(
      '--timeout <duration>',
      'give up on a server silent (or slower than 1 KiB/s) this long',
      '30s',
    )
    .option('--retries <n>', 'retries after network errors, timeouts and 5xx, with backoff', '5')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nAn interrupted fetch resumes where it stopped when run again (HTTP Range). HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.\nExit codes: 0 fetched and verified, 1 download failed or a pack did not verify (nothing unverified is kept), 2 bad input, 3 metadata refused (expired, replayed, badly signed) or a pack not in the index, 4 another fetch is downloading into the same folder.\nExample: uplift fetch --install /opt/skiff --to latest --repo https://packs.example.com/skiff --root root.json',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/fetch.ts');
      emit(await handler(o, { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true }), {
        json: o.json,
      });
    });

  const keys = program.command('keys').description('Make signing keys for packs and repositories.');
  keys
    .command('generate')
    .description('Generate an ed25519 key pair: BASE.key (private, 0600) and BASE.pub (public).')
    .requiredOption('--out <base>', 'path and base name of the two files (never overwritten)')
    .option('--name <name>', 'a name recorded in the .pub file')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 written, 2 a key file already exists.\nExample: uplift keys generate --out keys/release-2025 --name "skiff release 2025"',
    )
    .action(async (o) => {
      const { generate } = await import('./commands/keys.ts');
      emit(await generate(o), { json: o.json });
    });

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
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 built, 2 bad input (trees that disagree with their manifests, a bad range or key).\nExample: uplift pack build --from-tree rel/5.4-GA --to-tree rel/5.4-Patch-2 --platform linux-x86-64 --delta --key release.key --out skiff-5.4-Patch-2-from-5.4_linux-x86-64.upk',
    )
    .action(async (o) => {
      const { build } = await import('./commands/pack.ts');
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
    .option('--profile <name>', 'with --install: product profile (default: recognised)')
    .option('--platform <id>', 'check the pack is for this platform')
    .option('--stage <dir>', 'also write the payload files into this new directory')
    .option('--catalog <file>', "vendor zips: a catalog file to use instead of the profile's")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nNothing is written unless --stage is given; on any failure the staging directory is removed.\nA vendor's own pack (SecureTransport_…zip) is recognised by its name and checked as `uplift vendor-pack verify` does: no uplift signature, the catalog's size and checksums, platform, hop and shape.\nExit codes: 0 verified, 1 damaged or unsafe pack, 2 bad input or no trust, 3 refused by policy (untrusted or revoked key, wrong platform, wrong from-version, downgrade).\nExample: uplift pack verify skiff-5.5-GA-from-5.4_linux-x86-64.upk --trust keys/ --install /opt/skiff",
    )
    .action(async (file, o) => {
      const { verify } = await import('./commands/pack.ts');
      emit(
        await verify(file, o, { stderr: io.stderr, stderrIsTty: process.stderr.isTTY === true }),
        { json: o.json },
      );
    });
  pack
    .command('inspect')
    .description('Show what a pack says it holds, without verifying it.')
    .argument('<file>', 'pack file')
    .option('--json', 'print JSON (the whole manifest)')
    .addHelpText(
      'after',
      '\nInspection is not verification: the signature is shown, not checked.\nExit codes: 0 shown, 1 not a readable pack, 2 bad input.\nExample: uplift pack inspect skiff-5.5-GA-from-5.4_linux-x86-64.upk --json',
    )
    .action(async (file, o) => {
      const { inspect } = await import('./commands/pack.ts');
      emit(await inspect(file), { json: o.json });
    });

  program
    .command('apply')
    .description(
      'Upgrade an installation along its plan: verify, stage (service running), back up, stop, switch, migrate, start, probe, smoke-test, commit; roll back on any failure.',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--to <version>', 'target version ("latest"), planned now from the detected facts')
    .option(
      '--plan <file>',
      'a saved plan (uplift plan --format json); refused if it no longer matches',
    )
    .option('--packs <dir>', 'folder holding the packs (default: the fetch cache, <cache>/packs)')
    .option('--trust <file>', 'trusted keys for pack signatures (default: $UPLIFT_TRUST)')
    .option(
      '--base-tree <dir>',
      'release tree of the installed version: the merge base when apply has none yet',
    )
    .option(
      '--catalog <file>',
      "vendor-installer products: the catalog to check the vendor's zips against (default: the profile's)",
    )
    .option(
      '--keep-runs <n>',
      "keep the backups of this many runs, this one included (default 3); of this run only the first and last hop's",
    )
    .option('--yes', 'do not ask for confirmation (required when standard input is not a terminal)')
    .option(
      '--dry-run',
      'verify and stage in a temporary folder, print what would change, change nothing',
    )
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      "\nThe profile's apply.method picks how a hop runs: uplift-pack (signed packs, staged tree switched by rename) or vendor-installer (the vendor zip's UpgradeStep1 then UpgradeStep2 through its update.sh, both directories backed up and restored on failure). Run as the installation's owner; root on a non-root installation runs as its owner; anyone else is refused (exit 3).\nExit codes: 0 done, 1 failed and rolled back (the old version runs), 2 bad input, 3 blocked (conflict, plan mismatch, manual step, wrong user), 4 another run holds the lock, 5 an earlier run was interrupted: run uplift resume.\nExample: uplift apply --install /opt/skiff --to latest --packs ./packs --trust keys.json --yes",
    )
    .action(async (o) => {
      const { handler } = await import('./commands/apply.ts');
      emit(await handler(o, { stderr: io.stderr, stdinIsTty: process.stdin.isTTY === true }), {
        json: o.json,
      });
    });

  program
    .command('resume')
    .description('Finish or undo the run a crash left on an installation (read from its journal).')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (or nothing to resume), 1 failed, 2 bad input, 4 another run holds the lock, 5 still incomplete: run it again.\nExample: uplift resume --install /opt/skiff',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/resume.ts');
      emit(await handler(o, { stderr: io.stderr }), { json: o.json });
    });

  program
    .command('status')
    .description('Show where the current run on an installation stands, and what resume would do.')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 idle or running, 2 bad input, 5 an interrupted run waits for uplift resume.\nExample: uplift status --install /opt/skiff',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/status.ts');
      emit(await handler(o), { json: o.json });
    });

  program
    .command('rollback')
    .description(
      'Undo the last committed upgrade of an installation (kept old generation, else its backup).',
    )
    .requiredOption('--install <dir>', 'installation directory')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 rolled back, 1 failed, 2 nothing to roll back, 4 another run holds the lock, 5 an interrupted run waits for uplift resume.\nExample: uplift rollback --install /opt/skiff',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/rollback.ts');
      emit(await handler(o, { stderr: io.stderr }), { json: o.json });
    });

  program
    .command('history')
    .description('List the runs of apply and rollback on an installation.')
    .requiredOption('--install <dir>', 'installation directory')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 listed, 2 bad input.\nExample: uplift history --install /opt/skiff --json',
    )
    .action(async (o) => {
      const { handler } = await import('./commands/history.ts');
      emit(await handler(o), { json: o.json });
    });

  // New commands go above this line, one block each, in the shape of the ones above.

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (err) {
    return report(err, io, wantsJson);
  }
  if (!result) return ExitCode.ok;
  const { res, out } = result;
  const json = out.json || out.format === 'json';
  const body = json ? `${JSON.stringify(res.data, null, 2)}\n` : res.text;
  if (out.out) {
    await writeAtomically(out.out, json || out.format === 'markdown' ? body : stripAnsi(body));
    io.stderr(`wrote ${out.out}\n`);
  } else io.stdout(body);
  return res.exitCode;
}

function report(err: unknown, io: CliIo, json: boolean): number {
  if (err instanceof CommanderError) {
    // Commander has already printed help, the version, or its own usage message.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return ExitCode.ok;
    return ExitCode.badInput;
  }
  if (err instanceof ExitError) return err.exitCode;
  if (err instanceof UpliftError) {
    if (json) io.stdout(`${JSON.stringify({ error: err.toJSON() }, null, 2)}\n`);
    else io.stderr(formatError(err));
    return err.exitCode;
  }
  io.stderr(formatInternalError(err, version));
  return ExitCode.failed;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}
