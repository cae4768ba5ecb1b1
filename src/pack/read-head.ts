import type { FileHandle } from 'node:fs/promises';
import { type Signature, SignatureEnvelope } from '../signing/index.ts';
import { canonicalJson } from '../util/index.ts';
import { formatPath } from '../yaml/index.ts';
import { packError, q } from './errors.ts';
import {
  formatVersion,
  headerBytes,
  layoutOf,
  magic,
  maxManifestBytes,
  maxSignatureBytes,
  type PackHeader,
  scriptPrefix,
} from './format.ts';
import { linkTargetProblem, modeProblem, octal, pathProblem } from './safe-path.ts';
import { PackManifest } from './schema.ts';

export interface PackHead {
  header: PackHeader;
  /** The three parts before the payload, exactly as in the file. */
  headerBuf: Buffer;
  manifestBytes: Buffer;
  signatureBytes: Buffer;
  /** Offset of the payload. */
  payloadAt: number;
}

async function readAt(fh: FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, at + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * Reads the header, then the manifest and signature, each length checked against its cap and
 * against the file's size before a byte of it is read.
 */
export async function readHead(fh: FileHandle, file: string, total: number): Promise<PackHead> {
  const headerBuf = await readAt(fh, 0, headerBytes);
  const seen = headerBuf.subarray(0, magic.length);
  if (!magic.subarray(0, seen.length).equals(seen))
    throw packError('UPLIFT_PACK_NOT_A_PACK', file, 'it does not start with UPLIFTPK', {});
  if (headerBuf.length < headerBytes)
    throw packError(
      'UPLIFT_PACK_TRUNCATED',
      file,
      `it ends at byte ${total}, inside the ${headerBytes}-byte header`,
    );
  const version = headerBuf.readUInt16BE(8);
  if (version !== formatVersion)
    throw packError(
      'UPLIFT_PACK_NOT_A_PACK',
      file,
      `format version ${version} at offset 8 is not one this uplift reads (${formatVersion})`,
      { hint: 'Use the uplift version that matches the pack, or rebuild the pack.' },
    );
  if (headerBuf.readUInt16BE(10) !== 0)
    throw packError('UPLIFT_PACK_NOT_A_PACK', file, 'the reserved bytes at offset 10 are not zero');
  const header: PackHeader = {
    version,
    manifestBytes: headerBuf.readUInt32BE(12),
    signatureBytes: headerBuf.readUInt32BE(16),
  };
  if (header.manifestBytes > maxManifestBytes)
    throw packError(
      'UPLIFT_PACK_METADATA_TOO_LARGE',
      file,
      `its header declares a ${header.manifestBytes}-byte manifest (offset 12); the limit is ${maxManifestBytes}`,
    );
  if (header.signatureBytes > maxSignatureBytes)
    throw packError(
      'UPLIFT_PACK_METADATA_TOO_LARGE',
      file,
      `its header declares a ${header.signatureBytes}-byte signature (offset 16); the limit is ${maxSignatureBytes}`,
    );
  const at = layoutOf(header);
  if (total < at.payload)
    throw packError(
      'UPLIFT_PACK_TRUNCATED',
      file,
      `it ends at byte ${total}, inside its ${total < at.signature ? 'manifest' : 'signature'} (which ends at byte ${total < at.signature ? at.signature : at.payload})`,
    );
  const manifestBytes = await readAt(fh, at.manifest, header.manifestBytes);
  const signatureBytes = await readAt(fh, at.signature, header.signatureBytes);
  if (manifestBytes.length + signatureBytes.length !== header.manifestBytes + header.signatureBytes)
    throw packError('UPLIFT_PACK_TRUNCATED', file, 'it became shorter while being read');
  return { header, headerBuf, manifestBytes, signatureBytes, payloadAt: at.payload };
}

/** The signature envelope, or the reason there is none. */
export function parseSignature(file: string, head: PackHead): Signature {
  if (head.signatureBytes.length === 0)
    throw packError('UPLIFT_PACK_SIGNATURE_MISSING', file, 'it carries no signature');
  let json: unknown;
  try {
    json = JSON.parse(head.signatureBytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = SignatureEnvelope.safeParse(json);
  if (!parsed.success)
    throw packError(
      'UPLIFT_PACK_SIGNATURE_INVALID',
      file,
      `its signature (offset ${head.payloadAt - head.signatureBytes.length}) is not a { keyid, sig } envelope`,
    );
  // One encoding only (RFC 8785: {"keyid":"…","sig":"…"}, what pack build writes): the signature
  // covers the manifest, not its own envelope, so padding there would change the file unseen.
  const canonical = Buffer.from(canonicalJson(parsed.data), 'utf8');
  const at = head.payloadAt - head.signatureBytes.length;
  for (let i = 0; i <= Math.max(canonical.length, head.signatureBytes.length); i++) {
    if (canonical[i] === head.signatureBytes[i]) continue;
    throw packError(
      'UPLIFT_PACK_SIGNATURE_NOT_CANONICAL',
      file,
      `its signature envelope (offset ${at}) is not in the canonical encoding: at offset ${at + i} it has ${byteName(head.signatureBytes[i])} where {"keyid":…,"sig":…} has ${byteName(canonical[i])}`,
      {
        hint: 'Every byte of a pack is covered: an envelope padded or reordered after signing is refused. Get the pack from its repository again, and never edit a pack.',
      },
    );
  }
  return parsed.data;
}

function byteName(b: number | undefined): string {
  if (b === undefined) return 'the end of the envelope';
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `${hex} (${JSON.stringify(String.fromCharCode(b))})` : hex;
}

/**
 * Parses the (already signature-checked) manifest and checks what the schema cannot: safe paths
 * and modes, each name once, no file under another, and totals that agree with the lists.
 */
export function parseManifest(file: string, bytes: Buffer): PackManifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw packError(
      'UPLIFT_PACK_MANIFEST_INVALID',
      file,
      `its manifest is not JSON: ${(err as Error).message}`,
    );
  }
  const parsed = PackManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = formatPath(issue?.path ?? []);
    throw packError('UPLIFT_PACK_MANIFEST_INVALID', file, `manifest ${path}: ${issue?.message}`, {
      path,
    });
  }
  const m = parsed.data;
  if (m.format === 'uplift-pack/1' && (m.symlinks !== undefined || m.directories !== undefined))
    throw packError(
      'UPLIFT_PACK_MANIFEST_INVALID',
      file,
      'manifest format uplift-pack/1 has no symlinks or directories (they came with uplift-pack/1.1)',
      { path: 'format' },
    );
  /** Every name that is there after the pack: files, links, directories, scripts. */
  const names = new Map<string, string>();
  /** Each list's own names, deletions included: a path may leave one kind and join another. */
  const listNames = new Map<string, string>();
  const entries = new Map<string, { size: number; sha256?: string }>();
  const claim = (path: string, field: string, list: string, present = true) => {
    const problem = pathProblem(path);
    if (problem)
      throw packError('UPLIFT_PACK_UNSAFE_PATH', file, `manifest ${field} ${q(path)} ${problem}`, {
        path: field,
      });
    const other = listNames.get(`${list}:${path}`) ?? (present ? names.get(path) : undefined);
    if (other !== undefined)
      throw packError(
        'UPLIFT_PACK_ENTRY_DUPLICATE',
        file,
        `manifest ${field} ${q(path)} is also ${other}`,
        { path: field },
      );
    listNames.set(`${list}:${path}`, field);
    if (present) names.set(path, field);
  };
  const links = new Set<string>();
  const dirs = new Set<string>();
  const checkMode = (mode: number, path: string, field: string) => {
    const bad = modeProblem(mode);
    if (bad)
      throw packError(
        'UPLIFT_PACK_UNSAFE_ENTRY',
        file,
        `manifest ${field} gives ${q(path)} mode ${octal(mode)}, which ${bad}`,
        { path: field },
      );
  };
  const reserved = (path: string, field: string) => {
    if (path.startsWith(scriptPrefix))
      throw packError(
        'UPLIFT_PACK_UNSAFE_PATH',
        file,
        `manifest ${field} ${q(path)} lies under the reserved ${scriptPrefix}`,
        { path: field },
      );
  };
  for (const [i, f] of m.files.entries()) {
    const field = `files[${i}].path`;
    claim(f.path, field, 'files', f.action !== 'delete');
    reserved(f.path, field);
    if (f.action !== 'delete') {
      checkMode(f.mode, f.path, `files[${i}].mode`);
      entries.set(f.path, f);
    }
  }
  for (const [i, l] of (m.symlinks ?? []).entries()) {
    const field = `symlinks[${i}].path`;
    claim(l.path, field, 'symlinks', l.action !== 'delete');
    reserved(l.path, field);
    if (l.action === 'delete') continue;
    const bad = linkTargetProblem(l.path, l.target);
    if (bad)
      throw packError(
        'UPLIFT_PACK_UNSAFE_PATH',
        file,
        `manifest symlinks[${i}]: the symbolic link ${q(l.path)} ${bad}`,
        { path: `symlinks[${i}].target` },
      );
    links.add(l.path);
    entries.set(l.path, { size: 0 });
  }
  for (const [i, d] of (m.directories ?? []).entries()) {
    const field = `directories[${i}].path`;
    claim(d.path, field, 'directories', d.action !== 'delete');
    reserved(d.path, field);
    if (d.action === 'delete') continue;
    checkMode(d.mode, d.path, `directories[${i}].mode`);
    dirs.add(d.path);
    entries.set(d.path, { size: 0 });
  }
  const scripts = [
    ...m.migrations.config.map((x, i) => [x.script, `migrations.config[${i}].script`] as const),
    ...m.migrations.database.map((x, i) => [x.script, `migrations.database[${i}].script`] as const),
    ...m.hooks.map((x, i) => [x.script, `hooks[${i}].script`] as const),
  ];
  const seenScripts = new Map<string, { size: number; sha256: string; field: string }>();
  for (const [s, field] of scripts) {
    const known = seenScripts.get(s.path);
    if (known) {
      if (known.size !== s.size || known.sha256 !== s.sha256)
        throw packError(
          'UPLIFT_PACK_MANIFEST_INVALID',
          file,
          `manifest ${field} names ${q(s.path)} with another size or hash than ${known.field}`,
          { path: field },
        );
      continue;
    }
    seenScripts.set(s.path, { size: s.size, sha256: s.sha256, field });
    claim(s.path, `${field}.path`, 'scripts');
    if (!s.path.startsWith(scriptPrefix) || s.path === scriptPrefix)
      throw packError(
        'UPLIFT_PACK_UNSAFE_PATH',
        file,
        `manifest ${field}.path ${q(s.path)} is not under ${scriptPrefix}`,
        { path: `${field}.path` },
      );
    checkMode(s.mode, s.path, `${field}.mode`);
    entries.set(s.path, s);
  }
  // Nothing lies under a file, and nothing the pack puts there under a link: a link is never
  // followed by a path the pack names. (A file deleted under a new link is the path changing kind.)
  const deletedFiles = m.files.flatMap((f, i) =>
    f.action === 'delete' ? [[f.path, `files[${i}].path`] as const] : [],
  );
  for (const [path, field] of [...names, ...deletedFiles]) {
    for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
      const above = path.slice(0, i);
      if (links.has(above) && names.get(path) === field)
        throw packError(
          'UPLIFT_PACK_UNSAFE_PATH',
          file,
          `manifest ${field} ${q(path)} lies under the symbolic link ${q(above)} (${names.get(above)})`,
          { path: field },
        );
      const parent = names.get(above);
      if (parent && !dirs.has(above) && !links.has(above))
        throw packError(
          'UPLIFT_PACK_MANIFEST_INVALID',
          file,
          `manifest ${field} ${q(path)} lies under the file ${parent}`,
          { path: field },
        );
    }
  }
  let stage = 0;
  for (const e of entries.values()) stage += e.size;
  if (m.payload.entries !== entries.size)
    throw packError(
      'UPLIFT_PACK_MANIFEST_INVALID',
      file,
      `manifest payload.entries is ${m.payload.entries}, but it lists ${entries.size} payload entries`,
      { path: 'payload.entries' },
    );
  if (m.space.stage !== stage)
    throw packError(
      'UPLIFT_PACK_MANIFEST_INVALID',
      file,
      `manifest space.stage is ${m.space.stage}, but its payload files hold ${stage} bytes`,
      { path: 'space.stage' },
    );
  return m;
}

/** An entry the payload must hold. */
export type PayloadEntry =
  | { kind: 'file'; size: number; mode: number; sha256: string }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory'; mode: number };

/**
 * The entries the payload must hold, by path: add/replace files, symlinks and directories, and
 * every script once.
 */
export function payloadEntries(m: PackManifest): Map<string, PayloadEntry> {
  const out = new Map<string, PayloadEntry>();
  const file = (f: { size: number; mode: number; sha256: string }): PayloadEntry => ({
    kind: 'file',
    size: f.size,
    mode: f.mode,
    sha256: f.sha256,
  });
  for (const f of m.files) if (f.action !== 'delete') out.set(f.path, file(f));
  for (const l of m.symlinks ?? [])
    if (l.action !== 'delete') out.set(l.path, { kind: 'symlink', target: l.target });
  for (const d of m.directories ?? [])
    if (d.action !== 'delete') out.set(d.path, { kind: 'directory', mode: d.mode });
  for (const x of [...m.migrations.config, ...m.migrations.database, ...m.hooks])
    out.set(x.script.path, file(x.script));
  return out;
}
