import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedKeys, fingerprint, hostKeyAlgorithms, verifyHostKey } from './host-key.ts';

let d: string;
let keyA: string;
let keyB: string;
const blob = (line: string) => Buffer.from(line.split(' ')[1] as string, 'base64');

beforeAll(() => {
  d = mkdtempSync(join(tmpdir(), 'uplift-hostkey-'));
  for (const name of ['a', 'b'])
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'c', '-f', join(d, name)]);
  keyA = readFileSync(join(d, 'a.pub'), 'utf8').trim();
  keyB = readFileSync(join(d, 'b.pub'), 'utf8').trim();
});

afterAll(() => rmSync(d, { recursive: true, force: true }));

function knownHosts(text: string): string {
  const file = join(d, `kh-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, text);
  return file;
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('expectedKeys from known_hosts', () => {
  it.each([
    ['a bare host on port 22', 'node1', 22, 'node1'],
    ['[host]:port on another port', 'node1', 2222, '[node1]:2222'],
    ['a pattern list with a wildcard', 'node7.example', 22, 'other,node?.example'],
    ['a * pattern on a port', 'db3', 2200, '[db*]:2200'],
    ['a hashed bare host', 'node1', 22, hashed('node1')],
    ['a hashed [host]:port', '10.0.0.5', 2222, hashed('[10.0.0.5]:2222')],
  ])('finds %s', (_, host, port, field) => {
    const file = knownHosts(`# a comment\n\n${field} ${keyA}\n`);

    const e = expectedKeys({ kind: 'known-hosts', file }, host, port);

    expect(e.keys.map((k) => k.blob)).toEqual([blob(keyA)]);
    expect(e.keys[0]?.where).toBe(`${file}:3`);
  });

  it.each([
    ['a bare host when the port is not 22', 'node1', 2222, 'node1'],
    ['another port', 'node1', 2222, '[node1]:2223'],
    ['a negated pattern', 'node1', 22, 'node*,!node1'],
    ['a hash of another name', 'node1', 22, hashed('node2')],
  ])('does not take %s', (_, host, port, field) => {
    const file = knownHosts(`${field} ${keyA}\n`);

    expect(expectedKeys({ kind: 'known-hosts', file }, host, port).keys).toEqual([]);
  });

  it('keeps @revoked keys apart and skips @cert-authority lines', () => {
    const file = knownHosts(
      `@revoked node1 ${keyB}\n@cert-authority node1 ${keyA}\nnode1 ${keyA}\n`,
    );

    const e = expectedKeys({ kind: 'known-hosts', file }, 'node1', 22);

    expect(e.keys.map((k) => k.where)).toEqual([`${file}:3`]);
    expect(e.revoked.map((k) => k.blob)).toEqual([blob(keyB)]);
  });

  it('reports a missing file as UPLIFT_FILE_NOT_FOUND', () => {
    expect(() => expectedKeys({ kind: 'known-hosts', file: join(d, 'none') }, 'h', 22)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_FILE_NOT_FOUND' }),
    );
  });
});

describe('pinned keys and the verdict', () => {
  it('takes a .pub line or a known_hosts line as the pinned key', () => {
    for (const key of [keyA, `[h]:22 ${keyA}`])
      expect(expectedKeys({ kind: 'pinned', key }, 'h', 22).keys[0]?.blob).toEqual(blob(keyA));
  });

  it('refuses a pinned value that is no key (UPLIFT_USAGE)', () => {
    expect(() => expectedKeys({ kind: 'pinned', key: 'ssh-ed25519 notbase64!' }, 'h', 22)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_USAGE' }),
    );
  });

  it('prints fingerprints as ssh-keygen does', () => {
    const printed = execFileSync('ssh-keygen', ['-lf', join(d, 'a.pub')], { encoding: 'utf8' });

    expect(printed.split(' ')[1]).toBe(fingerprint(blob(keyA)));
  });

  it('accepts the known key, refuses another as changed and an unknown host as unknown', () => {
    const pinned = expectedKeys({ kind: 'pinned', key: keyA }, 'h', 2222);
    const none = expectedKeys({ kind: 'known-hosts', file: knownHosts('') }, 'h', 2222);

    expect(verifyHostKey(pinned, blob(keyA), 'ssh://u@h:2222')).toEqual({ ok: true });
    expect(verifyHostKey(pinned, blob(keyB), 'x')).toMatchObject({
      ok: false,
      error: { code: 'UPLIFT_SSH_HOST_KEY_CHANGED' },
    });
    expect(verifyHostKey(none, blob(keyA), 'x')).toMatchObject({
      ok: false,
      error: { code: 'UPLIFT_SSH_HOST_UNKNOWN' },
    });
  });

  it('offers only the host key algorithms of the known keys', () => {
    const file = knownHosts(
      `h ${keyA}\nh ssh-rsa ${Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa')]).toString('base64')}\n`,
    );

    expect(hostKeyAlgorithms(expectedKeys({ kind: 'known-hosts', file }, 'h', 22))).toEqual([
      'ssh-ed25519',
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
  });
});
