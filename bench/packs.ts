import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type GeneratedTree,
  generateLargeFiles,
  generateTree,
  listFiles,
  type MutatedTree,
  mutateTree,
  sha256File,
} from './generate-tree.ts';
import { figures, type RunFigures, removed, snapshotBundle, type Timed, timed } from './measure.ts';
import { round } from './stats.ts';

/**
 * Upgrade packs against the system tools doing the same work, in the same run, on the same files:
 * - build: `uplift pack build` (full) of a generated 1 GiB, 20,000-file tree with one and with two
 *   compression workers (`--workers`) against `tar -cf - | zstd` at the pack's own zstd level,
 *   window and threads, and `zip -r -q` (default level);
 * - verify: `uplift pack verify` of that pack against `sha256sum` of the same file and `zstd -t` of
 *   the tar.zst (the goal is uplift's MB/s of the pack file at least sha256sum's);
 * - extract: `uplift pack verify --stage` against `zstd -d | tar -x`
 *   (also followed by `sync -f`) and `unzip -q`, into empty directories on the same filesystem;
 * - delta against full size on every hop of skiff's upgrade path and on the generated tree with
 *   5 % of its files changed (mutateTree);
 * - peak RSS (VmHWM) of `uplift pack verify` on a 2 GiB pack of incompressible files.
 * Every uplift command runs as operators run it, `uplift` from package.json's `bin` (the bundle), a
 * real process. Each timed command runs `rounds` times (builds and verifies one more), alternating
 * which goes first, and the best time counts; the page cache is warm for all, and what an earlier
 * round wrote is removed and the removal committed before the next command starts (see removed()).
 */

/** A timed command; `fileMBps` is MB/s of the file it reads (the pack, the tar.zst, the zip). */
export interface PackRun extends RunFigures {
  fileBytes?: number;
  fileMBps?: number;
}

export interface HopSize {
  from: string;
  to: string;
  files: number;
  added: number;
  replaced: number;
  deleted: number;
  fullBytes: number;
  deltaBytes: number;
  /** delta bytes / full bytes */
  ratio: number;
}

export interface PackFigures {
  platform: string;
  zstdLevel: number;
  zstdThreads: number;
  rounds: number;
  tree: Omit<GeneratedTree, 'root'>;
  next: Omit<MutatedTree, 'root'>;
  /** 1-, 5- and 15-minute load averages when the section started and ended (the VM is shared). */
  loadAverage: { start: number[]; end: number[] };
  build: {
    /** `--workers 1`. */
    uplift: PackRun;
    /** `--workers 2`. */
    uplift2: PackRun;
    tarZstd: PackRun;
    zip: PackRun;
    /** uplift seconds / tool seconds: below 1 means uplift is faster (one worker). */
    ratioTarZstd: number;
    /** The same with two workers. */
    ratioTarZstd2: number;
    /** The two ratios of the median rounds (best of three is at the mercy of one lucky round). */
    medianRatioTarZstd: number;
    medianRatioTarZstd2: number;
    ratioZip: number;
  };
  verify: {
    uplift: PackRun;
    sha256sum: PackRun;
    zstdT: PackRun;
    /** uplift MB/s of the pack / sha256sum MB/s of the same pack: the goal is at least 1. */
    throughputRatioSha256: number;
    /** zstd -t seconds / uplift seconds, both over the same tree: above 1 means uplift is faster. */
    speedRatioZstdT: number;
  };
  extract: {
    uplift: PackRun;
    tarZstd: PackRun;
    tarZstdSync: PackRun;
    unzip: PackRun;
    ratioTarZstd: number;
    ratioTarZstdSync: number;
    ratioUnzip: number;
  };
  delta: {
    skiff: HopSize[];
    generated: HopSize & { changedShare: number; buildSeconds: number };
  };
  large: {
    treeBytes: number;
    files: number;
    packBytes: number;
    buildSeconds: number;
    verify: PackRun;
    sha256sum: PackRun;
    throughputRatioSha256: number;
    peakRssMB: number;
  };
}

export interface PackBenchOptions {
  root: string;
  /** Generated tree size (1 GiB by default); the large pack is twice this. */
  bytes?: number;
  files?: number;
  /** The pack's zstd level, window (log2 bytes) and worker threads, for the tar | zstd peer. */
  level: number;
  windowLog: number;
  threads: number;
  platform?: string;
  rounds?: number;
  /** The uplift CLI to run (default: a snapshot of `<root>/dist/bundle/uplift.cjs`, package.json's `bin`). */
  cliPath?: string;
  log?: (s: string) => void;
}

interface TreeManifest {
  product: string;
  version: string;
  created?: string;
  files: { path: string; size: number; mode: number; sha256: string }[];
}

/** Writes `<dir>/manifest.json` for `<dir>/tree`, the release-tree layout `uplift pack build` reads. */
export function writeTreeManifest(dir: string, product: string, version: string): TreeManifest {
  const tree = join(dir, 'tree');
  const manifest: TreeManifest = {
    product,
    version,
    created: '2025-01-01T00:00:00Z',
    files: listFiles(tree).map((path) => {
      const st = statSync(join(tree, path));
      return { path, size: st.size, mode: st.mode & 0o7777, sha256: sha256File(join(tree, path)) };
    }),
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Files added, replaced and deleted going from one release manifest to the next. */
function changes(from: TreeManifest, to: TreeManifest) {
  const before = new Map(from.files.map((f) => [f.path, f.sha256]));
  const after = new Set(to.files.map((f) => f.path));
  let added = 0;
  let replaced = 0;
  for (const f of to.files) {
    const old = before.get(f.path);
    if (old === undefined) added++;
    else if (old !== f.sha256) replaced++;
  }
  const deleted = from.files.filter((f) => !after.has(f.path)).length;
  return { files: to.files.length, added, replaced, deleted };
}

const best = (runs: Timed[]) => Math.min(...runs.map((r) => r.seconds));
const peak = (runs: Timed[]) => Math.max(...runs.map((r) => r.peakRssMB));

function run(command: string, runs: Timed[], treeBytes: number, fileBytes?: number): PackRun {
  const f: PackRun = figures(command, runs, treeBytes, { peakRssMB: peak(runs) });
  if (fileBytes !== undefined) {
    f.fileBytes = fileBytes;
    f.fileMBps = round(fileBytes / 1e6 / best(runs));
  }
  return f;
}

/** Runs the rounds, alternating the order of the commands; each gets its own list of timings. */
async function alternate(
  rounds: number,
  steps: (() => Promise<void>)[],
  log: (s: string) => void,
  what: string,
) {
  for (let i = 0; i < rounds; i++) {
    log(`  ${what} round ${i + 1}/${rounds} …`);
    const order = i % 2 === 0 ? steps : [...steps].reverse();
    for (const step of order) await step();
  }
}

export async function benchPacks(opts: PackBenchOptions): Promise<PackFigures> {
  const log = opts.log ?? (() => {});
  const rounds = opts.rounds ?? 2;
  const platform = opts.platform ?? 'linux-x86-64';
  for (const f of ['dist/bundle/uplift.cjs', 'dist/pack/index.js'])
    if (!existsSync(join(opts.root, f)))
      throw new Error(`${f} does not exist; run npm run build first`);
  const level = opts.level;
  const zstd = `zstd -q -${level} -T${opts.threads} --zstd=wlog=${opts.windowLog}`;

  const loadStart = loadavg().map((l) => round(l));
  const dir = await mkdtemp(join(tmpdir(), 'uplift-bench-packs-'));
  try {
    const cliPath = opts.cliPath ?? snapshotBundle(opts.root, dir);
    const cli = (args: string[]) => timed(process.execPath, [cliPath, ...args], opts.root);
    const keyBase = join(dir, 'bench');
    await cli(['keys', 'generate', '--out', keyBase]);
    const key = `${keyBase}.key`;
    const trust = `${keyBase}.pub`;
    const buildArgs = (from: string, to: string, out: string, delta: boolean, workers = 1) => [
      'pack',
      'build',
      '--from-tree',
      from,
      '--to-tree',
      to,
      '--platform',
      platform,
      ...(delta ? ['--delta'] : []),
      '--key',
      key,
      '--out',
      out,
      '--workers',
      String(workers),
    ];

    // The generated release and its successor with 5 % of the files changed.
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    log(`  generating the trees in ${dir} …`);
    const { root: _a, ...tree } = generateTree(join(a, 'tree'), {
      files: opts.files,
      bytes: opts.bytes,
    });
    const { root: _b, ...next } = mutateTree(join(a, 'tree'), join(b, 'tree'));
    const manifestA = writeTreeManifest(a, 'skiff', '5.4 GA');
    const manifestB = writeTreeManifest(b, 'skiff', '5.5 GA');
    // The two gigabytes just written reach the disk before anything is timed: their writeback
    // would otherwise slow whichever command runs first, the more if it syncs.
    spawnSync('sync', ['-f', dir], { stdio: 'ignore' });

    // Build: the full pack of b against tar | zstd and zip of the same tree.
    const pack = join(dir, 'full.pack');
    const tarZst = join(dir, 'b.tar.zst');
    const zip = join(dir, 'b.zip');
    const buildU: Timed[] = [];
    const buildU2: Timed[] = [];
    const buildT: Timed[] = [];
    const buildZ: Timed[] = [];
    // One round more than the others, as for verify: a gigabyte written right after another was
    // freed costs this VM up to twice the system time, whichever tool writes it.
    await alternate(
      rounds + 1,
      [
        async () => {
          removed(pack);
          buildU.push(await cli(buildArgs(a, b, pack, false, 1)));
        },
        async () => {
          removed(pack);
          buildU2.push(await cli(buildArgs(a, b, pack, false, 2)));
        },
        async () => {
          removed(tarZst);
          const script = `set -o pipefail; tar -cf - -C '${join(b, 'tree')}' . | ${zstd} -o '${tarZst}'`;
          buildT.push(await timed('bash', ['-c', script], dir));
        },
        async () => {
          removed(zip);
          buildZ.push(await timed('zip', ['-r', '-q', zip, '.'], join(b, 'tree')));
        },
      ],
      log,
      'build',
    );
    const packBytes = statSync(pack).size;
    const tarZstBytes = statSync(tarZst).size;
    const zipBytes = statSync(zip).size;
    const buildUplift = run(
      `uplift pack build (full, zstd -${level}, 1 worker)`,
      buildU,
      next.bytes,
    );
    buildUplift.archiveBytes = packBytes;
    const buildUplift2 = run(
      `uplift pack build (full, zstd -${level}, 2 workers)`,
      buildU2,
      next.bytes,
    );
    buildUplift2.archiveBytes = packBytes;
    const buildTar = run(`tar -cf - | ${zstd}`, buildT, next.bytes);
    buildTar.archiveBytes = tarZstBytes;
    const buildZip = run('zip -r -q', buildZ, next.bytes);
    buildZip.archiveBytes = zipBytes;

    // Verify: the same pack file through uplift and sha256sum; the tar.zst through zstd -t.
    const verifyU: Timed[] = [];
    const verifyS: Timed[] = [];
    const verifyZ: Timed[] = [];
    await alternate(
      rounds + 1,
      [
        async () => {
          verifyU.push(await cli(['pack', 'verify', pack, '--trust', trust]));
        },
        async () => {
          verifyS.push(await timed('sha256sum', [pack], dir));
        },
        async () => {
          verifyZ.push(await timed('zstd', ['-q', '-t', tarZst], dir));
        },
      ],
      log,
      'verify',
    );
    const verifyUplift = run('uplift pack verify', verifyU, next.bytes, packBytes);
    const verifySha = run('sha256sum (the pack)', verifyS, next.bytes, packBytes);
    const verifyZstd = run('zstd -t (the tar.zst)', verifyZ, next.bytes, tarZstBytes);

    // Extract: verify with staging against zstd -d | tar -x and unzip, into empty directories.
    const extractU: Timed[] = [];
    const extractT: Timed[] = [];
    const extractTS: Timed[] = [];
    const extractZ: Timed[] = [];
    const target = (name: string) => {
      const t = join(dir, `extract-${name}`);
      removed(t);
      mkdirSync(t);
      return t;
    };
    await alternate(
      rounds,
      [
        async () => {
          const t = target('uplift');
          removed(t); // --stage creates its directory
          extractU.push(await cli(['pack', 'verify', pack, '--trust', trust, '--stage', t]));
        },
        async () => {
          const t = target('tar');
          const script = `set -o pipefail; zstd -q -d -c '${tarZst}' | tar -xf - -C '${t}'`;
          extractT.push(await timed('bash', ['-c', script], dir));
        },
        async () => {
          const t = target('tar-sync');
          const script = `set -o pipefail; zstd -q -d -c '${tarZst}' | tar -xf - -C '${t}' && sync -f '${t}'`;
          extractTS.push(await timed('bash', ['-c', script], dir));
        },
        async () => {
          const t = target('unzip');
          extractZ.push(await timed('unzip', ['-q', zip, '-d', t], dir));
        },
      ],
      log,
      'extract',
    );
    for (const name of ['uplift', 'tar', 'tar-sync', 'unzip'])
      await rm(join(dir, `extract-${name}`), { recursive: true, force: true });
    const extractUplift = run('uplift pack verify --stage', extractU, next.bytes, packBytes);
    const extractTar = run('zstd -d | tar -x', extractT, next.bytes, tarZstBytes);
    const extractTarSync = run('zstd -d | tar -x && sync -f', extractTS, next.bytes, tarZstBytes);
    const extractZip = run('unzip -q', extractZ, next.bytes, zipBytes);

    // Delta of the generated tree.
    log('  delta of the generated tree …');
    const deltaPack = join(dir, 'delta.pack');
    const deltaBuild = await cli(buildArgs(a, b, deltaPack, true));
    await cli(['pack', 'verify', deltaPack, '--trust', trust]);
    const deltaBytes = statSync(deltaPack).size;
    const generated = {
      from: manifestA.version,
      to: manifestB.version,
      ...changes(manifestA, manifestB),
      fullBytes: packBytes,
      deltaBytes,
      ratio: round(deltaBytes / packBytes),
      changedShare: round((next.changedBytes + next.addedBytes) / next.bytes),
      buildSeconds: round(deltaBuild.seconds),
    };
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
    for (const f of [zip, tarZst, deltaPack, pack]) rmSync(f, { force: true });

    const skiff = await skiffHops(opts.root, dir, cli, buildArgs, trust, log);

    // Peak RSS of verifying a large pack of incompressible files (twice the tree size).
    log('  generating the large tree …');
    const tiny = join(dir, 'tiny');
    mkdirSync(join(tiny, 'tree'), { recursive: true });
    writeFileSync(join(tiny, 'tree', 'readme.txt'), 'the release before\n');
    writeTreeManifest(tiny, 'skiff', '5.4 GA');
    const large = join(dir, 'large');
    const largeTree = generateLargeFiles(join(large, 'tree'), {
      bytes: 2 * tree.bytes,
      files: 8,
    });
    writeTreeManifest(large, 'skiff', '5.5 GA');
    const largePack = join(dir, 'large.pack');
    log('  building the large pack …');
    const largeBuild = await cli(buildArgs(tiny, large, largePack, false));
    await rm(large, { recursive: true, force: true });
    const largePackBytes = statSync(largePack).size;
    const largeU: Timed[] = [];
    const largeS: Timed[] = [];
    await alternate(
      rounds,
      [
        async () => {
          largeU.push(await cli(['pack', 'verify', largePack, '--trust', trust]));
        },
        async () => {
          largeS.push(await timed('sha256sum', [largePack], dir));
        },
      ],
      log,
      'large verify',
    );
    rmSync(largePack, { force: true });
    const largeVerify = run('uplift pack verify', largeU, largeTree.bytes, largePackBytes);
    const largeSha = run('sha256sum', largeS, largeTree.bytes, largePackBytes);

    return {
      platform,
      zstdLevel: level,
      zstdThreads: opts.threads,
      rounds,
      tree,
      next,
      loadAverage: { start: loadStart, end: loadavg().map((l) => round(l)) },
      build: {
        uplift: buildUplift,
        uplift2: buildUplift2,
        tarZstd: buildTar,
        zip: buildZip,
        ratioTarZstd: round(buildUplift.seconds / buildTar.seconds),
        ratioTarZstd2: round(buildUplift2.seconds / buildTar.seconds),
        medianRatioTarZstd: round(buildUplift.medianSeconds / buildTar.medianSeconds),
        medianRatioTarZstd2: round(buildUplift2.medianSeconds / buildTar.medianSeconds),
        ratioZip: round(buildUplift.seconds / buildZip.seconds),
      },
      verify: {
        uplift: verifyUplift,
        sha256sum: verifySha,
        zstdT: verifyZstd,
        throughputRatioSha256: round(best(verifyS) / best(verifyU)),
        speedRatioZstdT: round(best(verifyZ) / best(verifyU)),
      },
      extract: {
        uplift: extractUplift,
        tarZstd: extractTar,
        tarZstdSync: extractTarSync,
        unzip: extractZip,
        ratioTarZstd: round(best(extractU) / best(extractT)),
        ratioTarZstdSync: round(best(extractU) / best(extractTS)),
        ratioUnzip: round(best(extractU) / best(extractZ)),
      },
      delta: { skiff, generated },
      large: {
        treeBytes: largeTree.bytes,
        files: largeTree.files,
        packBytes: largePackBytes,
        buildSeconds: round(largeBuild.seconds),
        verify: largeVerify,
        sha256sum: largeSha,
        throughputRatioSha256: round(best(largeS) / best(largeU)),
        peakRssMB: largeVerify.peakRssMB ?? 0,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Full and delta pack sizes for every hop of skiff's longest upgrade path from its oldest
 * release, on the real release trees (products/skiff `buildReleaseTree`). Each pack is verified.
 */
async function skiffHops(
  root: string,
  dir: string,
  cli: (args: string[]) => Promise<Timed>,
  buildArgs: (from: string, to: string, out: string, delta: boolean) => string[],
  trust: string,
  log: (s: string) => void,
): Promise<HopSize[]> {
  const skiff = (await import(
    pathToFileURL(join(root, 'products/skiff/dist/index.js')).href
  )) as typeof import('../products/skiff/src/index.ts');
  const oldest = '5.3.0 Patch 1';
  const paths = JSON.parse(
    (await cli(['paths', '--profile', 'skiff', '--from', oldest, '--json'])).stdout,
  ) as { targets: { to: string; hops: number; steps: string[] }[] };
  const longest = paths.targets.reduce((m, t) => (t.hops >= m.hops ? t : m));
  const versions = [oldest, ...longest.steps];
  log(`  skiff hops: ${versions.join(' → ')} …`);
  const out = join(dir, 'skiff');
  const trees = versions.map((v) => skiff.buildReleaseTree(v, out));
  const hops: HopSize[] = [];
  for (let i = 1; i < trees.length; i++) {
    const from = trees[i - 1] as (typeof trees)[number];
    const to = trees[i] as (typeof trees)[number];
    const sizes: number[] = [];
    for (const delta of [false, true]) {
      const file = join(out, `hop-${i}-${delta ? 'delta' : 'full'}.pack`);
      await cli(buildArgs(from.dir, to.dir, file, delta));
      await cli(['pack', 'verify', file, '--trust', trust]);
      sizes.push(statSync(file).size);
    }
    const [fullBytes = 0, deltaBytes = 0] = sizes;
    hops.push({
      from: from.manifest.version,
      to: to.manifest.version,
      ...changes(from.manifest, to.manifest),
      fullBytes,
      deltaBytes,
      ratio: round(deltaBytes / fullBytes),
    });
  }
  await rm(out, { recursive: true, force: true });
  return hops;
}

function row(cells: (string | number)[], widths: number[]): string {
  return cells
    .map((c, i) => String(c).padEnd(widths[i] ?? 0))
    .join('  ')
    .trimEnd();
}

const mib = (n: number | undefined) => (n === undefined ? '' : (n / 1_048_576).toFixed(1));

/** The printed pack section: one table per comparison, ratios and goals. */
export function formatPacks(
  p: PackFigures,
  goals: { verifyRatio: number; verifyRssMB: number; buildRatio1: number; buildRatio2: number },
): string {
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const lines: string[] = [];
  const t = p.tree;
  lines.push(
    `\nPacks — generated release: ${t.files} files, ${mib(t.bytes)} MiB (${Math.round((t.randomBytes / t.bytes) * 100)} % random); next release: ${p.next.changed} changed, ${p.next.added} added, ${p.next.deleted} deleted; zstd -${p.zstdLevel} -T${p.zstdThreads}, best of ${p.rounds} (build and verify ${p.rounds + 1})`,
  );
  const widths = [42, 8, 10, 10, 12, 12];
  const table = (title: string, runs: PackRun[]) => {
    lines.push(`  ${title}`);
    lines.push(
      `    ${row(['command', 'seconds', 'tree MB/s', 'file MB/s', 'peak RSS MB', 'archive MiB'], widths)}`,
    );
    for (const r of runs)
      lines.push(
        `    ${row([r.command, r.seconds, r.mbPerSecond, r.fileMBps ?? '', r.peakRssMB ?? '', mib(r.archiveBytes)], widths)}`,
      );
  };
  lines.push(
    `  load average ${p.loadAverage.start.join(' ')} at the start, ${p.loadAverage.end.join(' ')} at the end`,
  );
  table('build (full pack of the next release)', [
    p.build.uplift,
    p.build.uplift2,
    p.build.tarZstd,
    p.build.zip,
  ]);
  lines.push(
    `    ratio uplift / tar|zstd: 1 worker ${p.build.ratioTarZstd}× (goal ≤ ${goals.buildRatio1}×: ${mark(p.build.ratioTarZstd <= goals.buildRatio1)}), 2 workers ${p.build.ratioTarZstd2}× (goal < ${goals.buildRatio2}×: ${mark(p.build.ratioTarZstd2 < goals.buildRatio2)}); uplift / zip ${p.build.ratioZip}×`,
    `    the same of the medians: 1 worker ${p.build.medianRatioTarZstd}×, 2 workers ${p.build.medianRatioTarZstd2}×`,
  );
  table('verify', [p.verify.uplift, p.verify.sha256sum, p.verify.zstdT]);
  lines.push(
    `    uplift MB/s / sha256sum MB/s (same file) ${p.verify.throughputRatioSha256}×  goal ≥ ${goals.verifyRatio}×: ${mark(p.verify.throughputRatioSha256 >= goals.verifyRatio)}`,
  );
  lines.push(`    zstd -t seconds / uplift seconds ${p.verify.speedRatioZstdT}×`);
  table('extract (verify + stage / decompress + write)', [
    p.extract.uplift,
    p.extract.tarZstd,
    p.extract.tarZstdSync,
    p.extract.unzip,
  ]);
  lines.push(
    `    ratio uplift / tar ${p.extract.ratioTarZstd}×, / tar && sync ${p.extract.ratioTarZstdSync}×, / unzip ${p.extract.ratioUnzip}×`,
  );
  lines.push('  delta vs full');
  const dw = [16, 16, 6, 6, 8, 7, 10, 10, 6];
  lines.push(
    `    ${row(['from', 'to', 'files', 'added', 'replaced', 'deleted', 'full KiB', 'delta KiB', 'ratio'], dw)}`,
  );
  const g = p.delta.generated;
  for (const h of [...p.delta.skiff, g])
    lines.push(
      `    ${row([h.from, h.to, h.files, h.added, h.replaced, h.deleted, (h.fullBytes / 1024).toFixed(0), (h.deltaBytes / 1024).toFixed(0), h.ratio], dw)}`,
    );
  lines.push(
    `    (last row: the generated tree, ${Math.round(g.changedShare * 100)} % of its bytes new; the delta build took ${g.buildSeconds} s)`,
  );
  const l = p.large;
  lines.push(
    `  large pack: ${l.files} incompressible files, ${mib(l.treeBytes)} MiB tree, ${mib(l.packBytes)} MiB pack, built in ${l.buildSeconds} s`,
  );
  table('verify the large pack', [l.verify, l.sha256sum]);
  lines.push(
    `    uplift MB/s / sha256sum MB/s ${l.throughputRatioSha256}×; peak RSS ${l.peakRssMB} MB  goal < ${goals.verifyRssMB} MB: ${mark(l.peakRssMB < goals.verifyRssMB)}`,
  );
  return lines.join('\n');
}
