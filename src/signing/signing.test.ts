import { execFileSync, spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  loadTrust,
  signBytes,
  trustOf,
  verifyEnvelope,
  writeKeyPair,
} from './index.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'uplift-signing-'));

/** A small tmpfs makes ENOSPC happen for real; mounting needs root (CI runs as root). */
const canMount = (() => {
  const probe = dir();
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

describe('signing', () => {
  it('round-trips a key pair through files and verifies what it signed', async () => {
    const d = dir();
    const { privateFile, publicFile } = await writeKeyPair(generateKeyPair(), join(d, 'release'));
    expect(statSync(privateFile).mode & 0o777).toBe(0o600);
    const priv = await loadPrivateKey(privateFile);
    const pub = await loadPublicKey(publicFile);
    expect(priv.keyid).toBe(pub.keyid);
    const bytes = Buffer.from('{"to":"5.5 GA"}');
    const s = signBytes(priv, bytes);
    expect(verifyEnvelope(trustOf([pub]), bytes, s)).toBe('ok');
    const flipped = Buffer.from(bytes);
    flipped[3] = (flipped[3] ?? 0) ^ 1;
    expect(verifyEnvelope(trustOf([pub]), flipped, s)).toBe('bad');
    expect(verifyEnvelope(trustOf([]), bytes, s)).toBe('untrusted');
    expect(verifyEnvelope(trustOf([pub], [pub.keyid]), bytes, s)).toBe('revoked');
  });

  it('never overwrites a key', async () => {
    const d = dir();
    await writeKeyPair(generateKeyPair(), join(d, 'k'));
    const before = readFileSync(join(d, 'k.key'), 'utf8');
    await expect(writeKeyPair(generateKeyPair(), join(d, 'k'))).rejects.toMatchObject({
      code: 'UPLIFT_KEY_EXISTS',
    });
    expect(readFileSync(join(d, 'k.key'), 'utf8')).toBe(before);
  });

  it('writes neither file when only the public one exists', async () => {
    const d = dir();
    writeFileSync(join(d, 'half.pub'), 'an earlier public key\n');

    await expect(writeKeyPair(generateKeyPair(), join(d, 'half'))).rejects.toMatchObject({
      code: 'UPLIFT_KEY_EXISTS',
      unchanged: true,
    });

    expect(readdirSync(d)).toEqual(['half.pub']);
    expect(readFileSync(join(d, 'half.pub'), 'utf8')).toBe('an earlier public key\n');
  });

  it.runIf(canMount)('leaves no key file on a full disk and says so with a code', async () => {
    const d = join(dir(), 'full');
    mkdirSync(d);
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', d]);
    try {
      spawnSync('sh', ['-c', `cat /dev/zero > ${d}/filler`]);

      await expect(writeKeyPair(generateKeyPair(), join(d, 'k'))).rejects.toMatchObject({
        code: 'UPLIFT_NO_SPACE',
      });

      expect(readdirSync(d)).toEqual(['filler']);
    } finally {
      spawnSync('umount', [d]);
    }
  });

  it('loads trust from a directory with a revoked list and from a trust file', async () => {
    const d = dir();
    const a = generateKeyPair();
    const b = generateKeyPair();
    await writeKeyPair(a, join(d, 'a'));
    await writeKeyPair(b, join(d, 'b'));
    writeFileSync(join(d, 'revoked'), `# rotated out\n${b.publicKey.keyid}\n`);
    const t = await loadTrust(d);
    expect([...t.keys.keys()].sort()).toEqual([a.publicKey.keyid, b.publicKey.keyid].sort());
    expect(t.revoked.has(b.publicKey.keyid)).toBe(true);

    const file = join(d, 'trust.json');
    writeFileSync(
      file,
      JSON.stringify({ format: 'uplift-trust/1', keys: [{ public: a.publicKey.public }] }),
    );
    expect([...(await loadTrust(file)).keys.keys()]).toEqual([a.publicKey.keyid]);
    writeFileSync(file, JSON.stringify({ format: 'uplift-trust/1', keys: [{ public: 'AAAA' }] }));
    await expect(loadTrust(file)).rejects.toMatchObject({
      code: 'UPLIFT_KEY_INVALID',
      location: { file, path: 'keys[0].public' },
    });
  });

  it('refuses a private key that is not ed25519', async () => {
    const d = dir();
    writeFileSync(join(d, 'x.key'), 'not a key');
    await expect(loadPrivateKey(join(d, 'x.key'))).rejects.toMatchObject({
      code: 'UPLIFT_KEY_INVALID',
    });
  });

  it('refuses a key or trust file that is a FIFO at once, naming it', async () => {
    const d = dir();
    const fifo = join(d, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const unreadable = { code: 'UPLIFT_FILE_UNREADABLE', location: { file: fifo } };

    await expect(loadTrust(fifo)).rejects.toMatchObject(unreadable);
    await expect(loadPrivateKey(fifo)).rejects.toMatchObject(unreadable);
    await expect(loadPublicKey(fifo)).rejects.toMatchObject(unreadable);
  });
});
