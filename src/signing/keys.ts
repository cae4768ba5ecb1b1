import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { link, lstat, mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  noSpaceError,
  UpliftError,
  unreadableFileError,
  unwritablePathError,
} from '../errors/index.ts';
import { readRegularFile } from '../util/index.ts';

/** A public key: its id is the SHA-256 of the 32 raw key bytes, in hex. */
export interface PublicKey {
  keyid: string;
  /** The 32 raw bytes, base64. */
  public: string;
  key: KeyObject;
}

export interface PrivateKey {
  keyid: string;
  key: KeyObject;
}

export interface KeyPair {
  publicKey: PublicKey;
  privateKey: PrivateKey;
}

/** The file format of a public key (`NAME.pub`): small, readable, safe to publish. */
export interface PublicKeyFile {
  format: 'uplift-public-key/1';
  algorithm: 'ed25519';
  keyid: string;
  public: string;
  name?: string;
}

export function keyIdOf(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

function rawOf(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string')
    throw new Error('not an ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

/** Imports a raw 32-byte ed25519 public key given in base64; undefined when it is not one. */
export function publicKeyFromBase64(b64: string): PublicKey | undefined {
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== b64) return undefined;
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
      format: 'jwk',
    });
    return { keyid: keyIdOf(raw), public: b64, key };
  } catch {
    return undefined;
  }
}

export function generateKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = rawOf(publicKey);
  const keyid = keyIdOf(raw);
  return {
    publicKey: { keyid, public: raw.toString('base64'), key: publicKey },
    privateKey: { keyid, key: privateKey },
  };
}

/**
 * Writes `<base>.key` (PKCS#8 PEM, mode 0600, created exclusively: an existing key is never
 * overwritten) and `<base>.pub` (JSON, {@link PublicKeyFile}).
 */
export async function writeKeyPair(
  pair: KeyPair,
  base: string,
  name?: string,
): Promise<{ privateFile: string; publicFile: string }> {
  const privateFile = `${base}.key`;
  const publicFile = `${base}.pub`;
  const pem = pair.privateKey.key.export({ format: 'pem', type: 'pkcs8' }).toString();
  const pub: PublicKeyFile = {
    format: 'uplift-public-key/1',
    algorithm: 'ed25519',
    keyid: pair.publicKey.keyid,
    public: pair.publicKey.public,
    ...(name ? { name } : {}),
  };
  const exists = (err: unknown, file: string) =>
    new UpliftError('UPLIFT_KEY_EXISTS', `${file} exists`, {
      hint: 'Choose another --out; uplift never overwrites a key.',
      location: { file },
      unchanged: true,
      cause: err,
    });
  // Both names are checked before anything is written: half a pair is never left behind.
  for (const file of [privateFile, publicFile])
    if (
      await lstat(file).then(
        () => true,
        () => false,
      )
    )
      throw exists(undefined, file);
  const written: string[] = [];
  let madeDir: string | undefined;
  try {
    // Missing folders are made private: they are about to hold a private key.
    madeDir = await mkdir(dirname(base), { recursive: true, mode: 0o700 });
    const privateTemp = await writeTemp(privateFile, pem, 0o600, written);
    const publicTemp = await writeTemp(
      publicFile,
      `${JSON.stringify(pub, null, 2)}\n`,
      0o644,
      written,
    );
    // link() never replaces a file: a key made meanwhile under the same name is kept.
    for (const [temp, file] of [
      [privateTemp, privateFile],
      [publicTemp, publicFile],
    ] as const) {
      await link(temp, file).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EEXIST' ? exists(err, file) : err;
      });
      written.push(file);
    }
    await Promise.all([rm(privateTemp), rm(publicTemp)]);
    written.length = 0;
    const dir = await open(dirname(base), 'r');
    await dir.sync().finally(() => dir.close());
  } catch (err) {
    await Promise.all(written.map((f) => rm(f, { force: true })));
    if (madeDir !== undefined) await rm(madeDir, { recursive: true, force: true });
    if (err instanceof UpliftError) throw err;
    throw (
      noSpaceError(err, privateFile, 'No key file was kept.') ??
      unwritablePathError(err, privateFile, '--out') ??
      err
    );
  }
  return { privateFile, publicFile };
}

/** Writes a temporary file beside `file`, synced, and records it in `written` for clean-up. */
async function writeTemp(
  file: string,
  text: string,
  mode: number,
  written: string[],
): Promise<string> {
  const temp = join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  written.push(temp);
  const fh = await open(temp, 'wx', mode);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return temp;
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readRegularFile(file, 'utf8');
  } catch (err) {
    throw (
      unreadableFileError(err, file, 'Give the path of a key made by `uplift keys generate`.') ??
      err
    );
  }
}

/** Reads a private key written by {@link writeKeyPair} (any PKCS#8 PEM ed25519 key). */
export async function loadPrivateKey(file: string): Promise<PrivateKey> {
  const text = await readKeyFile(file);
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(String(key.asymmetricKeyType));
    return { keyid: keyIdOf(rawOf(createPublicKey(key))), key };
  } catch {
    throw new UpliftError('UPLIFT_KEY_INVALID', `${file} is not an ed25519 private key`, {
      hint: 'Give the .key file made by `uplift keys generate` (PKCS#8 PEM).',
      location: { file },
    });
  }
}

/** Reads a public key file ({@link PublicKeyFile}); its keyid must match its bytes. */
export async function loadPublicKey(file: string): Promise<PublicKey> {
  const text = await readKeyFile(file);
  let parsed: Partial<PublicKeyFile> | undefined;
  try {
    parsed = JSON.parse(text) as Partial<PublicKeyFile>;
  } catch {
    // Reported below.
  }
  const key =
    parsed?.format === 'uplift-public-key/1' && typeof parsed.public === 'string'
      ? publicKeyFromBase64(parsed.public)
      : undefined;
  if (!key || (parsed?.keyid !== undefined && parsed.keyid !== key.keyid))
    throw new UpliftError('UPLIFT_KEY_INVALID', `${file} is not an uplift public key`, {
      hint: 'Give the .pub file made by `uplift keys generate`; its keyid must be the SHA-256 of its key.',
      location: { file, path: 'public' },
    });
  return key;
}
