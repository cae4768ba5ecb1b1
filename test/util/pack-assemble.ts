import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import tar from 'tar-stream';
import { compress } from 'zstd-napi';
import type { PackFile, PackManifest } from '../../src/pack/index.ts';
import { type PrivateKey, signBytes } from '../../src/signing/index.ts';

/**
 * Builds packs from raw parts for the "should error and not write if" tests: any tar entries
 * (symlinks, hard links, devices, fifos, duplicate or hostile names), any manifest, any signature,
 * any header. Written against docs/pack-format.md, not against src/pack's writer, so a mistake in
 * the writer cannot hide the same mistake in the reader.
 */

export interface RawEntry {
  name: string;
  type?: tar.Header['type'];
  body?: string | Buffer;
  /** The size the tar header declares (default: the body's). */
  mode?: number;
  linkname?: string;
}

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export function tarOf(entries: readonly RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<Buffer>((res, rej) => {
    pack.on('end', () => res(Buffer.concat(chunks)));
    pack.on('error', rej);
  });
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = type === 'file' ? Buffer.from(e.body ?? '') : undefined;
    pack.entry(
      {
        name: e.name,
        type,
        mode: e.mode ?? 0o644,
        mtime: new Date(0),
        uid: 0,
        gid: 0,
        linkname: e.linkname,
        size: body?.length ?? 0,
      },
      body ?? Buffer.alloc(0),
    );
  }
  pack.finalize();
  return done;
}

export function zstdOf(b: Buffer, level = 3): Buffer {
  return compress(b, { compressionLevel: level, checksumFlag: true });
}

export interface HeaderParts {
  magic?: Buffer;
  version?: number;
  reserved?: number;
  /** Declared lengths (default: the real ones). */
  manifestBytes?: number;
  signatureBytes?: number;
}

/** header | manifest | signature | payload | trailing, as raw bytes. */
export function assemble(
  manifest: Buffer,
  signature: Buffer,
  payload: Buffer,
  h: HeaderParts = {},
  trailing: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(20);
  (h.magic ?? Buffer.from('UPLIFTPK')).copy(head, 0);
  head.writeUInt16BE(h.version ?? 1, 8);
  head.writeUInt16BE(h.reserved ?? 0, 10);
  head.writeUInt32BE(h.manifestBytes ?? manifest.length, 12);
  head.writeUInt32BE(h.signatureBytes ?? signature.length, 16);
  return Buffer.concat([head, manifest, signature, payload, trailing]);
}

export interface CraftOptions {
  key: PrivateKey;
  entries: readonly RawEntry[];
  /** Files the manifest lists (default: every `file` entry, action add, as it is). */
  files?: PackFile[];
  /** Last changes to the manifest before it is serialised and signed. */
  edit?: (m: PackManifest) => void;
  /** Replace the compressed payload (the manifest still describes the real one unless edited). */
  payload?: (real: Buffer) => Buffer;
  /** Sign these bytes instead of the manifest's; null: no signature at all. */
  signature?: Buffer | null;
  header?: HeaderParts;
  trailing?: Buffer;
}

export const base = {
  product: 'skiff',
  from: '5.4 GA',
  to: '5.4 Patch 2',
  platform: 'linux-x86-64',
} as const;

/** A pack whose parts the test chooses; everything it does not choose is valid. */
export async function craftPack(o: CraftOptions): Promise<Buffer> {
  const tarBytes = await tarOf(o.entries);
  const real = zstdOf(tarBytes);
  const payload = o.payload ? o.payload(real) : real;
  const files: PackFile[] =
    o.files ??
    o.entries
      .filter((e) => (e.type ?? 'file') === 'file')
      .map((e) => {
        const body = Buffer.from(e.body ?? '');
        return {
          path: e.name,
          action: 'add',
          size: body.length,
          mode: e.mode ?? 0o644,
          sha256: sha(body),
        };
      });
  const stage = files.reduce((n, f) => n + (f.action === 'delete' ? 0 : f.size), 0);
  const m: PackManifest = {
    format: 'uplift-pack/1',
    product: base.product,
    kind: 'delta',
    from: { range: base.from, version: base.from },
    to: base.to,
    platform: base.platform,
    build: '7',
    created: '2024-06-01T00:00:00.000Z',
    files,
    migrations: { config: [], database: [] },
    hooks: [],
    space: { stage, growth: stage },
    payload: {
      compression: 'zstd',
      level: 3,
      bytes: real.length,
      sha256: sha(real),
      unpackedBytes: tarBytes.length,
      entries: files.filter((f) => f.action !== 'delete').length,
    },
  };
  o.edit?.(m);
  const manifest = Buffer.from(JSON.stringify(m, null, 2));
  const signature =
    o.signature === null
      ? Buffer.alloc(0)
      : Buffer.from(JSON.stringify(signBytes(o.key, o.signature ?? manifest)));
  return assemble(manifest, signature, payload, o.header, o.trailing);
}

/** A release tree as products/skiff/layout.md describes it, from a map of path → content. */
export function writeReleaseTree(
  dir: string,
  version: string,
  files: Record<string, string | Buffer | { body: string | Buffer; mode: number }>,
  product = 'skiff',
): string {
  const list = Object.keys(files)
    .sort()
    .map((path) => {
      const f = files[path];
      const { body, mode } =
        typeof f === 'string' || Buffer.isBuffer(f)
          ? { body: f, mode: 0o644 }
          : (f as { body: string | Buffer; mode: number });
      const file = join(dir, 'tree', path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, body);
      chmodSync(file, mode);
      const bytes = Buffer.from(body);
      return { path, size: bytes.length, mode, sha256: sha(bytes) };
    });
  mkdirSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ product, version, created: '2024-06-01T00:00:00Z', files: list }, null, 2),
  );
  return dir;
}
