/**
 * The measurement behind the pack payload's compression (docs/pack-format.md, "Compression"):
 * one tar of a tree, compressed and decompressed by each candidate, single-threaded, in this
 * process. `npx tsx test/util/pack-compression.ts [--mib N] [--skiff]`: a generated mixed tree of N
 * MiB (default 1024; bench/generate-tree.ts, 20,000 files scaled down with N), or with --skiff the
 * 5.5 GA release tree (products/skiff, needs `npm run build`). Prints a Markdown table.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { generateTree } from '../../bench/generate-tree.ts';
import { buildReleaseTree } from '../../products/skiff/src/index.ts';
import { compressStream, decompressBounded } from '../../src/pack/zstd.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
};
const mib = Number(arg('--mib') ?? 1024);
const skiff = process.argv.includes('--skiff');
const work = mkdtempSync(join(tmpdir(), 'uplift-pack-compression-'));

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(root, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if ((await stat(join(root, p))).isDirectory()) out.push(...(await listFiles(root, p)));
    else out.push(p);
  }
  return out;
}

const sink = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

async function makeTar(root: string, files: string[], out: string): Promise<void> {
  const pack = tar.pack();
  const piped = pipeline(pack, createWriteStream(out));
  for (const f of files) {
    const size = statSync(join(root, f)).size;
    await new Promise<void>((res, rej) => {
      const e = pack.entry({ name: f, size, mode: 0o644, mtime: new Date(0) }, (err) =>
        err ? rej(err) : res(),
      );
      pipeline(createReadStream(join(root, f)), e).catch(rej);
    });
  }
  pack.finalize();
  await piped;
}

async function time(f: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

interface Row {
  codec: string;
  bytes: number;
  compressS: number;
  decompressS: number;
}

async function main(): Promise<void> {
  let root: string;
  let label: string;
  if (skiff) {
    root = buildReleaseTree('5.5 GA', work).tree;
    label = 'skiff 5.5 GA release tree';
  } else {
    root = join(work, 'tree');
    const g = generateTree(root, {
      bytes: mib << 20,
      files: Math.max(100, Math.round((20_000 * mib) / 1024)),
    });
    label = `generated tree, ${g.files} files, ${mib} MiB, ${Math.round((100 * g.randomBytes) / g.bytes)} % random`;
  }
  const files = await listFiles(root);
  const tarFile = join(work, 'x.tar');
  await makeTar(root, files, tarFile);
  const tarBytes = statSync(tarFile).size;
  const m = (b: number) => (skiff ? (b / 1024).toFixed(1) : (b / 1_048_576).toFixed(1));
  console.log(
    `\n${label}: tar ${m(tarBytes)} ${skiff ? 'KiB' : 'MiB'}, ${files.length} files; node ${process.version}, 1 thread\n`,
  );
  console.log(
    `| codec | size ${skiff ? 'KiB' : 'MiB'} | ratio | compress MiB/s | decompress MiB/s |`,
  );
  console.log('|---|---:|---:|---:|---:|');
  const rows = {
    push(r: Row) {
      console.log(
        `| ${r.codec} | ${m(r.bytes)} | ${(r.bytes / tarBytes).toFixed(3)} | ${(tarBytes / 1_048_576 / r.compressS).toFixed(0)} | ${(tarBytes / 1_048_576 / r.decompressS).toFixed(0)} |`,
      );
    },
  };
  const zstdLevels = skiff ? [1, 3, 6, 9, 12, 19] : [1, 3, 9, 12];
  for (const level of zstdLevels) {
    const out = join(work, `x.tar.${level}.zst`);
    const compressS = await time(() =>
      pipeline(
        createReadStream(tarFile, { highWaterMark: 1 << 20 }),
        compressStream(level),
        createWriteStream(out),
      ),
    );
    const decompressS = await time(() =>
      pipeline(
        decompressBounded(
          createReadStream(out, { highWaterMark: 1 << 20 }),
          Number.MAX_SAFE_INTEGER,
        ),
        sink(),
      ),
    );
    rows.push({
      codec: `zstd -${level} (zstd-napi, window 2^23)`,
      bytes: statSync(out).size,
      compressS,
      decompressS,
    });
    rmSync(out);
  }
  for (const level of skiff ? [1, 6, 9] : [1, 6]) {
    const out = join(work, `x.tar.${level}.gz`);
    const compressS = await time(() =>
      pipeline(
        createReadStream(tarFile, { highWaterMark: 1 << 20 }),
        createGzip({ level }),
        createWriteStream(out),
      ),
    );
    const decompressS = await time(() =>
      pipeline(createReadStream(out, { highWaterMark: 1 << 20 }), createGunzip(), sink()),
    );
    rows.push({
      codec: `gzip -${level} (node:zlib)`,
      bytes: statSync(out).size,
      compressS,
      decompressS,
    });
    rmSync(out);
  }
  {
    const out = join(work, 'x.zip');
    const compressS = await time(async () => {
      const z = new yazl.ZipFile();
      for (const f of files)
        z.addFile(join(root, f), f, { mtime: new Date(0), compressionLevel: 6 });
      z.end();
      await pipeline(z.outputStream, createWriteStream(out));
    });
    const decompressS = await time(
      () =>
        new Promise<void>((res, rej) => {
          yauzl.open(out, { lazyEntries: true }, (err, zip) => {
            if (err || !zip) return rej(err);
            zip.on('entry', (e: yauzl.Entry) =>
              zip.openReadStream(e, (er, s) => {
                if (er || !s) return rej(er);
                const h = createHash('md5');
                s.on('data', (c: Buffer) => h.update(c));
                s.on('end', () => zip.readEntry());
              }),
            );
            zip.on('end', () => res());
            zip.readEntry();
          });
        }),
    );
    rows.push({
      codec: 'zip deflate -6 (yazl/yauzl, per file)',
      bytes: statSync(out).size,
      compressS,
      decompressS,
    });
  }
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
