import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';
import yazl from 'yazl';
import { repoRoot } from './run-cli.ts';

/**
 * Synthetic vendor packs: zips of the shape the vendor documents (UpgradeStep1/ with the installer
 * update, UpgradeStep2/ with the product update), and broken variants of it. Names that yazl refuses
 * to write (`..`, absolute paths, backslashes, control characters) are written under a placeholder
 * of the same byte length and patched into the local and central headers afterwards, exactly as a
 * hostile archiver would store them.
 */
export interface ZipEntrySpec {
  name: string;
  /** File content; directories have none. */
  data?: Buffer | string;
  dir?: boolean;
  /** Unix mode stored in the external attributes (e.g. 0o120777 for a symlink). */
  mode?: number;
  /** Set the "encrypted" flag (general purpose bit 0) on the entry. */
  encrypted?: boolean;
  /** Store without compression (so the pack's size can be steered). */
  store?: boolean;
  /** Clear the UTF-8 flag (general purpose bit 11): readers then decode the name as CP437. */
  cp437?: boolean;
}

export interface WrittenZip {
  file: string;
  size: number;
  md5: string;
  sha256: string;
}

const mtime = new Date('2021-09-21T00:00:00Z');

/** The documented shape: one installer update and one product update. */
export function documentedEntries(opts: { padding?: number } = {}): ZipEntrySpec[] {
  const filler = opts.padding ? pseudoRandom(opts.padding) : Buffer.alloc(0);
  return [
    { name: 'UpgradeStep1/', dir: true },
    {
      name: 'UpgradeStep1/AxwayInstaller_update_linux-x86-64.zip',
      data: 'installer update\n',
    },
    { name: 'UpgradeStep2/', dir: true },
    {
      name: 'UpgradeStep2/SecureTransport_5.5_update_linux-x86-64.zip',
      data: Buffer.concat([Buffer.from('product update\n'), filler]),
      store: filler.length > 0,
    },
  ];
}

/** Writes a zip of these entries (deterministic: fixed mtime, the order given) and hashes it. */
export async function writeVendorZip(file: string, entries: ZipEntrySpec[]): Promise<WrittenZip> {
  const zip = new yazl.ZipFile();
  const patches: { index: number; name: Buffer }[] = [];
  entries.forEach((e, index) => {
    const raw = Buffer.from(e.name, 'utf8');
    const safe = isYazlSafe(e.name) ? e.name : placeholder(index, raw.length, e.dir === true);
    if (safe !== e.name) patches.push({ index, name: raw });
    const options = { mtime, ...(e.mode === undefined ? {} : { mode: e.mode }) };
    if (e.dir) zip.addEmptyDirectory(safe, options);
    else zip.addBuffer(Buffer.from(e.data ?? ''), safe, { ...options, compress: !e.store });
  });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  patchHeaders(
    bytes,
    new Map(patches.map((p) => [p.index, p.name])),
    new Set(entries.flatMap((e, i) => (e.encrypted ? [i] : []))),
    new Set(entries.flatMap((e, i) => (e.cp437 ? [i] : []))),
  );
  writeFileSync(file, bytes);
  return { file, ...digestOf(bytes) };
}

export function digestOf(bytes: Buffer): { size: number; md5: string; sha256: string } {
  return {
    size: bytes.length,
    md5: createHash('md5').update(bytes).digest('hex'),
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

function isYazlSafe(name: string): boolean {
  return (
    name !== '' &&
    !name.includes('\\') &&
    !/^[a-zA-Z]:/.test(name) &&
    !name.startsWith('/') &&
    !name.split('/').includes('..') &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we test.
    !/[\u0000-\u001f\u007f]/.test(name)
  );
}

function placeholder(index: number, length: number, dir: boolean): string {
  const body = `${index.toString(36)}${'p'.repeat(length)}`.slice(0, dir ? length - 1 : length);
  return dir ? `${body}/` : body;
}

/** Rewrites entry names (same byte length) and flags, in both header copies. */
function patchHeaders(
  bytes: Buffer,
  names: Map<number, Buffer>,
  encrypted: Set<number>,
  cp437: Set<number>,
): void {
  if (names.size === 0 && encrypted.size === 0 && cp437.size === 0) return;
  const eocd = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = bytes.readUInt16LE(eocd + 10);
  let cd = bytes.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (bytes.readUInt32LE(cd) !== 0x02014b50) throw new Error('not a central directory header');
    const nameLength = bytes.readUInt16LE(cd + 28);
    const extraLength = bytes.readUInt16LE(cd + 30);
    const commentLength = bytes.readUInt16LE(cd + 32);
    const local = bytes.readUInt32LE(cd + 42);
    const name = names.get(i);
    if (name) {
      if (name.length !== nameLength) throw new Error('placeholder length differs');
      name.copy(bytes, cd + 46);
      name.copy(bytes, local + 30);
    }
    if (encrypted.has(i)) {
      bytes.writeUInt16LE(bytes.readUInt16LE(cd + 8) | 1, cd + 8);
      bytes.writeUInt16LE(bytes.readUInt16LE(local + 6) | 1, local + 6);
    }
    if (cp437.has(i)) {
      bytes.writeUInt16LE(bytes.readUInt16LE(cd + 8) & ~0x800, cd + 8);
      bytes.writeUInt16LE(bytes.readUInt16LE(local + 6) & ~0x800, local + 6);
    }
    cd += 46 + nameLength + extraLength + commentLength;
  }
}

/** Incompressible but reproducible bytes (a stored entry of this size grows the zip by as much). */
export function pseudoRandom(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const securetransportCatalog = join(repoRoot, 'profiles/securetransport/catalog.yaml');

/** A pack entry's fields that a test sets to describe its synthetic zip. */
export interface PackOverride {
  size?: number;
  md5?: string | null;
  sha256?: string | null;
  from?: string;
}

/**
 * Writes a copy of securetransport's catalog in which the pack entries named in `overrides` (by
 * file name) carry the synthetic zip's size and checksums (`null` removes a field). Throws when a
 * named file is not in the catalog, so a test cannot silently check nothing.
 */
export function writeCatalogCopy(file: string, overrides: Record<string, PackOverride>): string {
  const doc = parseDocument(readFileSync(securetransportCatalog, 'utf8'));
  const left = new Set(Object.keys(overrides));
  const releases = doc.get('releases') as YAMLSeq<YAMLMap>;
  for (const release of releases.items) {
    const packs = release.get('packs') as YAMLSeq<YAMLMap> | undefined;
    for (const pack of packs?.items ?? []) {
      const name = String(pack.get('file'));
      const o = overrides[name];
      if (!o) continue;
      left.delete(name);
      for (const [key, value] of Object.entries(o)) {
        if (value === null) pack.delete(key);
        else if (value !== undefined) pack.set(key, value);
      }
    }
  }
  if (left.size > 0) throw new Error(`not in the catalog: ${[...left].join(', ')}`);
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
  return file;
}
