import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
