import type { Command } from '@commander-js/extra-typings';
import { type CommandContext, profileHelp, progressIo } from '../register.ts';

/** Registers `uplift fetch`; the handler is imported when the command runs. */
export function register(program: Command, { emit, io }: CommandContext): void {
  program
    .command('fetch')
    .description(
      "Download exactly the packs a plan needs for this node's platform, resumable and verified.",
    )
    .option('--install <dir>', 'plan from this installation')
    .option('--to <version>', 'target version, or "latest" (with --install)', 'latest')
    .option(
      '--channel <name>',
      "with --install: release channel the target is chosen in (default: the catalog's default)",
    )
    .option('--profile <name|dir>', profileHelp.install)
    .option('--plan <file>', 'a saved plan (uplift plan --json) instead of --install')
    .requiredOption('--repo <url|dir>', 'repository: an http(s):// URL or a folder')
    .option('--root <file>', "the repository's root.json, obtained out of band (first use)")
    .option(
      '--reset-trust',
      'trust the repository of --root at this address although it served another root before',
    )
    .option(
      '--out <dir>',
      'where the packs go (default: <cache>/packs, e.g. ~/.cache/uplift/packs)',
    )
    .option(
      '--timeout <duration>',
      'for every request (metadata and packs): connect, headers and silence limit, the window of --min-rate, and with it the deadline (timeout + size at --min-rate)',
      '30s',
    )
    .option('--min-rate <bytes/s>', 'slowest transfer accepted, e.g. 1024, 512KiB', '1KiB')
    .option(
      '--max-expand <ratio>',
      'unpacked bytes allowed per pack byte, checked before decoding (default 200 above 128 MiB)',
    )
    .option('--retries <n>', 'retries after network errors, timeouts and 5xx, with backoff', '5')
    .option('--progress', 'show progress even when standard error is not a terminal')
    .option('--no-progress', 'never show progress')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nAn interrupted fetch resumes where it stopped when run again (HTTP Range). HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured.\nExit codes: 0 fetched and verified, 1 download failed or a pack did not verify (nothing unverified is kept), 2 bad input, 3 metadata refused (expired, replayed, badly signed) or a pack not in the index, 4 another fetch is downloading into the same folder.\nExample: uplift fetch --install /opt/product --to latest --repo https://packs.example.com/product --root root.json',
    )
    .action(async (o) => {
      const { handler } = await import('./fetch.ts');
      emit(await handler(o, progressIo(io)), {
        json: o.json,
      });
    });
}
