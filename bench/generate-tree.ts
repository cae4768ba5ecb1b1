import { createCipheriv, createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { createRandom } from './random.ts';

/**
 * A deterministic installation-like tree for the backup bench: by default 20,000 files and exactly
 * 1 GiB. Sizes: 90 % of files small (256 B–32 KiB, configs and logs), 9.5 % medium (32 KiB–1 MiB),
 * 0.5 % large (1–16 MiB), log-uniform inside each class, scaled so the total is exact. Content:
 * a file is incompressible random bytes (AES-CTR keystream: jars, archives, uploads) with
 * probability 10 % / 35 % / 60 % by class, otherwise log-like text that gzip shrinks several times.
 */
export interface GeneratedTree {
  root: string;
  files: number;
  directories: number;
  bytes: number;
  textBytes: number;
  randomBytes: number;
  seconds: number;
}

export interface GenerateOptions {
  files?: number;
  bytes?: number;
  seed?: number;
}

const logUniform = (r: number, lo: number, hi: number) =>
  Math.exp(Math.log(lo) + r * (Math.log(hi) - Math.log(lo)));

/** 8 MiB of log lines; text files are slices of it at random offsets (far apart compared with gzip's 32 KiB window). */
function textCorpus(random: () => number): Buffer {
  const levels = ['INFO', 'INFO', 'INFO', 'WARN', 'DEBUG', 'ERROR'];
  const verbs = ['upload', 'download', 'purge', 'archive', 'login', 'list'];
  const lines: string[] = [];
  let size = 0;
  let t = Date.UTC(2024, 0, 1);
  while (size < 8 << 20) {
    t += Math.floor(random() * 5000);
    const account = `acct${String(Math.floor(random() * 500)).padStart(4, '0')}`;
    const line = `${new Date(t).toISOString()} ${levels[Math.floor(random() * levels.length)]} [worker-${Math.floor(random() * 16)}] ${verbs[Math.floor(random() * verbs.length)]} account=${account} file=/data/${account}/in/report-${Math.floor(random() * 100000)}.csv bytes=${Math.floor(random() * 10_000_000)} ms=${Math.floor(random() * 3000)} status=${random() < 0.97 ? 'OK' : 'FAILED'}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''), 'utf8');
}

export function generateTree(root: string, opts: GenerateOptions = {}): GeneratedTree {
  const started = performance.now();
  const files = opts.files ?? 20_000;
  const target = opts.bytes ?? 1 << 30;
  const random = createRandom(opts.seed ?? 20250101);
  const corpus = textCorpus(random);

  const plan: { size: number; kind: 'text' | 'random' }[] = [];
  for (let i = 0; i < files; i++) {
    const c = random();
    const [lo, hi, pRandom] =
      c < 0.9
        ? [256, 32 << 10, 0.1]
        : c < 0.995
          ? [32 << 10, 1 << 20, 0.35]
          : [1 << 20, 16 << 20, 0.6];
    plan.push({ size: logUniform(random(), lo, hi), kind: random() < pRandom ? 'random' : 'text' });
  }
  const sum = plan.reduce((s, p) => s + p.size, 0);
  let total = 0;
  for (const p of plan) {
    p.size = Math.max(1, Math.floor((p.size * target) / sum));
    total += p.size;
  }
  const last = plan[plan.length - 1];
  if (last) last.size += target - total;

  const dirs = new Set<string>();
  const key = createHash('sha256')
    .update(String(opts.seed ?? 20250101))
    .digest()
    .subarray(0, 16);
  const keystream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  let textBytes = 0;
  let randomBytes = 0;
  for (const [i, p] of plan.entries()) {
    const dir =
      i < 20
        ? ''
        : `d${String(i % 20).padStart(2, '0')}/s${String(Math.floor(i / 20) % 20).padStart(2, '0')}`;
    if (dir && !dirs.has(dir)) {
      mkdirSync(join(root, dir), { recursive: true });
      dirs.add(dir);
      dirs.add(dir.split('/')[0] as string);
    }
    const name = `${p.kind === 'random' ? 'blob' : 'log'}-${String(i).padStart(5, '0')}.${p.kind === 'random' ? 'bin' : 'txt'}`;
    let data: Buffer;
    if (p.kind === 'random') {
      data = keystream.update(Buffer.alloc(p.size));
      randomBytes += p.size;
    } else {
      data = Buffer.allocUnsafe(p.size);
      let off = 0;
      let from = Math.floor(random() * corpus.length);
      while (off < p.size) {
        const n = Math.min(p.size - off, corpus.length - from);
        corpus.copy(data, off, from, from + n);
        off += n;
        from = 0;
      }
      textBytes += p.size;
    }
    if (i === 0) mkdirSync(root, { recursive: true });
    writeFileSync(join(root, dir, name), data);
  }
  return {
    root,
    files,
    directories: dirs.size,
    bytes: textBytes + randomBytes,
    textBytes,
    randomBytes,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

/** What {@link mutateTree} did: the counts and bytes of the new tree. */
export interface MutatedTree {
  root: string;
  files: number;
  bytes: number;
  changed: number;
  changedBytes: number;
  added: number;
  addedBytes: number;
  deleted: number;
  seconds: number;
}

export interface MutateOptions {
  /** Share of the files whose content changes: 0.05 by default. */
  fraction?: number;
  /** Files added and files deleted, each: 0.25 % of the file count (at least 1) by default. */
  addDelete?: number;
  seed?: number;
}

const piece = Buffer.alloc(8 << 20);

/** The SHA-256 of a file, in hex, read in 8 MiB pieces. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, piece); n > 0; n = readSync(fd, piece))
      hash.update(piece.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Every regular file under `root`, as sorted `/`-separated relative paths. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk('');
  return out.sort();
}

/**
 * The next release of a generated tree, the way an upgrade changes an installation: `to` gets a
 * copy of `from` in which a seeded `fraction` of the files (5 % by default) has new content of a
 * similar size (within ±2 %: fresh keystream for `.bin` files, the text rotated and re-headed for
 * `.txt` files, so each stays as compressible as it was), a few files are deleted and a few new
 * ones added. Deterministic for a given `from` and seed; `from` is not touched.
 */
export function mutateTree(from: string, to: string, opts: MutateOptions = {}): MutatedTree {
  const started = performance.now();
  const seed = opts.seed ?? 20250202;
  const random = createRandom(seed);
  const paths = listFiles(from);
  const fraction = opts.fraction ?? 0.05;
  const addDelete = opts.addDelete ?? Math.max(1, Math.round(paths.length * 0.0025));
  const key = createHash('sha256').update(`mutate-${seed}`).digest().subarray(0, 16);
  const keystream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));

  // Choose, without repeats, the files to change and the files to delete.
  const order = paths.map((p, i) => ({ p, i, r: random() })).sort((a, b) => a.r - b.r);
  const nChanged = Math.round(paths.length * fraction);
  const changed = new Set(order.slice(0, nChanged).map((o) => o.p));
  const deleted = new Set(order.slice(nChanged, nChanged + addDelete).map((o) => o.p));

  const newContent = (old: Buffer, name: string): Buffer => {
    const size = Math.max(1, Math.round(old.length * (0.98 + random() * 0.04)));
    if (name.endsWith('.bin')) return keystream.update(Buffer.alloc(size));
    const header = Buffer.from(`# changed by the next release (${name})\n`, 'utf8');
    const rotated = Buffer.concat([old.subarray(Math.floor(random() * old.length)), old]);
    const body = Buffer.alloc(size);
    let off = header.copy(body, 0, 0, Math.min(header.length, size));
    while (off < size) off += rotated.copy(body, off, 0, Math.min(rotated.length, size - off));
    return body;
  };

  let bytes = 0;
  let changedBytes = 0;
  const dirs = new Set<string>();
  const ensureDir = (rel: string) => {
    const d = dirname(rel);
    if (!dirs.has(d)) {
      mkdirSync(join(to, d), { recursive: true });
      dirs.add(d);
    }
  };
  for (const p of paths) {
    if (deleted.has(p)) continue;
    ensureDir(p);
    const src = join(from, p);
    const dst = join(to, p);
    if (changed.has(p)) {
      const data = newContent(readFileSync(src), p);
      writeFileSync(dst, data);
      chmodSync(dst, statSync(src).mode & 0o7777);
      changedBytes += data.length;
      bytes += data.length;
    } else {
      copyFileSync(src, dst);
      bytes += statSync(dst).size;
    }
  }
  // New files go next to existing ones, named apart from the generator's names.
  let addedBytes = 0;
  const sample = order.slice(nChanged + addDelete);
  for (let i = 0; i < addDelete; i++) {
    const like = sample[i % Math.max(1, sample.length)]?.p ?? paths[0] ?? 'file.bin';
    const rel = `${dirname(like) === '.' ? '' : `${dirname(like)}/`}added-${String(i).padStart(4, '0')}.bin`;
    ensureDir(rel);
    const size = Math.max(1, Math.floor(logUniform(random(), 1 << 10, 256 << 10)));
    writeFileSync(join(to, rel), keystream.update(Buffer.alloc(size)));
    addedBytes += size;
    bytes += size;
  }
  return {
    root: to,
    files: paths.length - deleted.size + addDelete,
    bytes,
    changed: changed.size,
    changedBytes,
    added: addDelete,
    addedBytes,
    deleted: deleted.size,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

/**
 * `files` incompressible files of equal size adding up to `bytes` (AES-CTR keystream), written in
 * 8 MiB pieces so that generating a 2 GiB tree needs no 2 GiB of memory: the input for the
 * peak-RSS measurement of a large pack, whose size is then about `bytes` whatever the compressor.
 */
export function generateLargeFiles(
  root: string,
  opts: { bytes: number; files: number; seed?: number },
): { root: string; files: number; bytes: number; seconds: number } {
  const started = performance.now();
  const key = createHash('sha256')
    .update(`large-${opts.seed ?? 20250303}`)
    .digest()
    .subarray(0, 16);
  const keystream = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  mkdirSync(root, { recursive: true });
  const each = Math.floor(opts.bytes / opts.files);
  const piece = Buffer.alloc(8 << 20);
  let bytes = 0;
  for (let i = 0; i < opts.files; i++) {
    const size = i === opts.files - 1 ? opts.bytes - each * (opts.files - 1) : each;
    const fd = openSync(join(root, `large-${String(i).padStart(2, '0')}.bin`), 'w');
    try {
      for (let off = 0; off < size; off += piece.length) {
        const n = Math.min(piece.length, size - off);
        writeSync(fd, keystream.update(piece.subarray(0, n)));
      }
    } finally {
      closeSync(fd);
    }
    bytes += size;
  }
  return {
    root,
    files: opts.files,
    bytes,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}
