import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addAccount, createAuthenticator, parseBasicAuth, readAccounts } from './accounts.ts';

const dir = mkdtempSync(join(tmpdir(), 'skiff-accounts-'));
const file = join(dir, 'accounts.json');
const basic = (name: string, password: string) =>
  `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('accounts', () => {
  it('stores only a salted scrypt hash', async () => {
    writeFileSync(file, '{ "accounts": [] }\n');

    await addAccount(file, 'alice', 'secret-a');
    await addAccount(file, 'bob', 'secret-a');

    const [alice, bob] = readAccounts(file);
    expect(JSON.stringify(readAccounts(file))).not.toContain('secret-a');
    expect(alice?.salt).not.toBe(bob?.salt);
    expect(alice?.hash).not.toBe(bob?.hash);
  });

  it('authenticates the right password only', async () => {
    const authenticate = createAuthenticator(file);

    expect(await authenticate(basic('alice', 'secret-a'))).toBe('alice');
    expect(await authenticate(basic('alice', 'secret-a'))).toBe('alice');
    expect(await authenticate(basic('alice', 'wrong'))).toBeUndefined();
    expect(await authenticate(basic('nobody', 'secret-a'))).toBeUndefined();
    expect(await authenticate(undefined)).toBeUndefined();
    expect(await authenticate('Bearer abc')).toBeUndefined();
  });

  it('forgets remembered passwords when accounts.json changes', async () => {
    const authenticate = createAuthenticator(file);
    expect(await authenticate(basic('bob', 'secret-a'))).toBe('bob');

    await addAccount(file, 'bob', 'secret-b');

    expect(await authenticate(basic('bob', 'secret-a'))).toBeUndefined();
    expect(await authenticate(basic('bob', 'secret-b'))).toBe('bob');
  });

  it('refuses account names that differ by case or climb folders', async () => {
    await expect(addAccount(file, 'Alice', 'x')).rejects.toThrow(/account name/);
    await expect(addAccount(file, '../x', 'x')).rejects.toThrow(/account name/);
  });

  it('splits Basic credentials at the first colon', () => {
    expect(parseBasicAuth(basic('a', 'p:q'))).toEqual({ name: 'a', password: 'p:q' });
  });
});
