import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
});
