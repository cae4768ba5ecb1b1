import { existsSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type GeneratedTree, generateTree } from './generate-tree.ts';
import {
  type Comparison,
  compare,
  figures,
  type RunFigures,
  removed,
  type Timed,
  timed,
} from './measure.ts';
import { round } from './stats.ts';

export type { Comparison, RunFigures } from './measure.ts';

/**
 * `uplift backup`, `--verify` and `restore` against the system tools doing the same work, in the
 * same run, on the same generated tree, at the same gzip level: `tar -I 'gzip -N' -cf`, `gzip -t`,
 * and `tar -xzf` (also `tar -xzf` followed by `sync -f`, since uplift's restore flushes its
 * staging tree to disk before the swap and tar does not). uplift runs as the built CLI, a real
 * process, so its start-up counts and its peak RSS is its own. Each command runs `rounds` times,
 * alternating which goes first, and the best time counts; the page cache is warm for all.
 */
export interface BackupFigures {
  tree: Omit<GeneratedTree, 'root'>;
  gzipLevel: number;
  rounds: number;
  backup: Comparison;
  verify: Comparison;
  restore: Comparison & { toolWithSync: RunFigures; ratioWithSync: number };
  /** Compressing threads of uplift's backup (os.availableParallelism()), and the load at the start. */
  gzipWorkers: number;
  loadAverage: number[];
}

export interface BackupBenchOptions {
  root: string;
  files?: number;
  bytes?: number;
  level?: number;
  rounds?: number;
  log?: (s: string) => void;
}

/** The largest peak RSS of the runs (the tool's or its biggest child's). */
const rss = (runs: Timed[]) => ({ peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)) });

export async function benchBackup(opts: BackupBenchOptions): Promise<BackupFigures> {
  const log = opts.log ?? (() => {});
  const level = opts.level ?? 1;
  const rounds = opts.rounds ?? 2;
  const cli = join(opts.root, 'dist/cli/main.js');
  if (!existsSync(cli)) throw new Error('dist/cli/main.js does not exist; run npm run build first');
  const loadAverage = loadavg().map((l) => round(l));
  const dir = await mkdtemp(join(tmpdir(), 'uplift-bench-backup-'));
  try {
    const install = join(dir, 'install');
    log(`  generating the tree in ${dir} …`);
    const { root: _root, ...tree } = generateTree(install, {
      files: opts.files,
      bytes: opts.bytes,
    });
    const upliftOut = join(dir, 'uplift.tar.gz');
    const tarOut = join(dir, 'tar.tar.gz');
    const gzip = `gzip -${level}`;

    const backupU: Timed[] = [];
    const backupT: Timed[] = [];
    let archiveBytes = 0;
    for (let i = 0; i < rounds; i++) {
      const runUplift = async () => {
        rmSync(`${upliftOut}.sha256`, { force: true });
        removed(upliftOut);
        const r = await timed(
          process.execPath,
          [
            cli,
            'backup',
            '--install',
            install,
            '--out',
            upliftOut,
            '--level',
            String(level),
            '--json',
            '--no-progress',
          ],
          opts.root,
        );
        archiveBytes = (JSON.parse(r.stdout) as { archiveBytes: number }).archiveBytes;
        backupU.push(r);
      };
      const runTar = async () => {
        removed(tarOut);
        backupT.push(await timed('tar', ['-I', gzip, '-cf', tarOut, '-C', dir, 'install'], dir));
      };
      log(`  backup round ${i + 1}/${rounds} …`);
      if (i % 2 === 0) {
        await runTar();
        await runUplift();
      } else {
        await runUplift();
        await runTar();
      }
    }
    const backup = compare(
      figures(`uplift backup --level ${level}`, backupU, tree.bytes, {
        peakRssMB: Math.max(...backupU.map((r) => r.peakRssMB)),
        archiveBytes,
      }),
      figures(`tar -I '${gzip}' -cf`, backupT, tree.bytes, {
        ...rss(backupT),
        archiveBytes: statSync(tarOut).size,
      }),
    );

    const verifyU: Timed[] = [];
    const verifyT: Timed[] = [];
    for (let i = 0; i < rounds; i++) {
      log(`  verify round ${i + 1}/${rounds} …`);
      verifyU.push(
        await timed(
          process.execPath,
          [cli, 'backup', '--verify', upliftOut, '--no-progress'],
          opts.root,
        ),
      );
      verifyT.push(await timed('gzip', ['-t', tarOut], dir));
    }
    const verify = compare(
      figures('uplift backup --verify', verifyU, tree.bytes, {
        peakRssMB: Math.max(...verifyU.map((r) => r.peakRssMB)),
      }),
      figures('gzip -t', verifyT, tree.bytes, rss(verifyT)),
    );

    const restoreU: Timed[] = [];
    const restoreT: Timed[] = [];
    const restoreTS: Timed[] = [];
    const upliftTarget = join(dir, 'restored-uplift');
    const tarTarget = join(dir, 'restored-tar');
    for (let i = 0; i < rounds; i++) {
      log(`  restore round ${i + 1}/${rounds} …`);
      for (const withSync of [false, true]) {
        removed(tarTarget);
        const script = `mkdir -p '${tarTarget}' && tar -xzf '${tarOut}' -C '${tarTarget}'${withSync ? ` && sync -f '${tarTarget}'` : ''}`;
        (withSync ? restoreTS : restoreT).push(await timed('sh', ['-c', script], dir));
      }
      removed(upliftTarget);
      restoreU.push(
        await timed(
          process.execPath,
          [cli, 'restore', upliftOut, '--install', upliftTarget, '--no-progress'],
          opts.root,
        ),
      );
    }
    const restored = compare(
      figures('uplift restore', restoreU, tree.bytes, {
        peakRssMB: Math.max(...restoreU.map((r) => r.peakRssMB)),
      }),
      figures('tar -xzf', restoreT, tree.bytes, rss(restoreT)),
    );
    const toolWithSync = figures('tar -xzf && sync -f', restoreTS, tree.bytes, rss(restoreTS));
    return {
      tree,
      gzipWorkers: availableParallelism(),
      loadAverage,
      gzipLevel: level,
      rounds,
      backup,
      verify,
      restore: {
        ...restored,
        toolWithSync,
        ratioWithSync: round(restored.uplift.seconds / toolWithSync.seconds),
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
