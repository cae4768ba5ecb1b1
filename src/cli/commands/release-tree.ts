/*
 * uplift release-tree make DIR --product P --version V --out OUT [--platform X] [--json]
 *
 *   Write a release tree (OUT/tree and OUT/manifest.json) from any folder, such as a fresh
 *   installation or an `npm install` folder, for `uplift pack build --from-tree/--to-tree`.
 *
 *   Arguments:
 *     DIR                the folder to copy; it is only read
 *   Options:
 *     --product <id>     product id as profiles name it (e.g. verdaccio)
 *     --version <v>      the version the folder holds (e.g. 6.8.0)
 *     --out <dir>        where to write the release tree; must not exist or be empty
 *     --platform <id>    the platform the folder is built for (e.g. linux-x86-64); packs built
 *                        from the tree must then be for that platform
 *     --json             print the result as JSON
 *
 *   Regular files, symbolic links and empty directories are copied. A link must be relative and
 *   stay inside DIR (npm's node_modules/.bin links do); an absolute or escaping link, a socket,
 *   FIFO or device is refused with its path, exit 2, and nothing is written. Modes a pack cannot
 *   carry (world-writable, setuid, setgid, sticky) are dropped from the copy and listed. Progress
 *   lines go to standard error every 500 files.
 *
 * Registration (src/cli/program.ts):
 *   program.command('release-tree').command('make').argument('<dir>')
 *     .requiredOption('--product <id>').requiredOption('--version <v>')
 *     .requiredOption('--out <dir>').option('--platform <id>').option('--json')
 *     .action(async (dir, o) => emit(await (await import('./commands/release-tree.ts'))
 *       .handler({ dir, ...o }, { stderr: io.stderr }), { json: o.json }));
 */
import { ExitCode } from '../../errors/index.ts';
import { describeAdjusted, type MakeProgress, makeReleaseTree } from '../../pack/index.ts';
import { formatBytes } from '../../util/index.ts';
import type { CommandResult } from '../types.ts';

export interface ReleaseTreeMakeOptions {
  dir: string;
  product: string;
  version: string;
  out: string;
  platform?: string;
}

/** Where progress lines go (standard error, so `--json` on standard output stays parseable). */
export interface ReleaseTreeIo {
  stderr: (s: string) => void;
}

const processStderr: ReleaseTreeIo = { stderr: (s) => process.stderr.write(s) };

/** `uplift release-tree make`: a release tree from any folder. */
export async function handler(
  o: ReleaseTreeMakeOptions,
  io: ReleaseTreeIo = processStderr,
): Promise<CommandResult> {
  const started = performance.now();
  const progress = (p: MakeProgress) =>
    io.stderr(
      `copied ${p.files}/${p.totalFiles} files (${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)})\n`,
    );
  const r = makeReleaseTree({
    dir: o.dir,
    product: o.product,
    version: o.version,
    out: o.out,
    ...(o.platform === undefined ? {} : { platform: o.platform }),
    onProgress: progress,
  });
  const seconds = (performance.now() - started) / 1000;
  const text = [
    `Wrote the release tree ${r.out} (${o.product} ${o.version}${o.platform ? `, ${o.platform}` : ''})`,
    `  files        ${r.files} (${formatBytes(r.bytes)})`,
    `  symlinks     ${r.symlinks}`,
    `  empty dirs   ${r.directories}`,
    `  manifest     ${r.manifest}`,
    ...(r.adjusted.length > 0
      ? [
          `  ${r.adjusted.length} mode(s) a pack cannot carry were dropped from the copy:`,
          ...r.adjusted.slice(0, 20).map((a) => `    ${describeAdjusted(a)}`),
          ...(r.adjusted.length > 20 ? [`    … and ${r.adjusted.length - 20} more`] : []),
        ]
      : []),
    `  took         ${seconds.toFixed(1)} s`,
    '',
  ].join('\n');
  return {
    data: { ...r, product: o.product, version: o.version, seconds },
    text,
    exitCode: ExitCode.ok,
  };
}
