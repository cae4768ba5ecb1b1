import { createHmac, randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** One entry of conf/accounts.json. The password is stored only as a salted scrypt hash. */
export interface Account {
  name: string;
  salt: string;
  hash: string;
  scrypt: { N: number; r: number; p: number };
}

interface AccountsFile {
  accounts: Account[];
}

const keyLength = 32;
const cost = { N: 16384, r: 8, p: 1 };

/** Lower case only, so two accounts never differ by case alone (SKF-392). */
const accountName = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(name: string, password: string): Promise<Account> {
  const salt = randomBytes(16);
  const hash = await derive(password, salt, cost);
  return { name, salt: salt.toString('hex'), hash: hash.toString('hex'), scrypt: { ...cost } };
}

export function readAccounts(file: string): Account[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as AccountsFile).accounts;
}

/** Adds or replaces an account in conf/accounts.json; the running server sees it at once. */
export async function addAccount(file: string, name: string, password: string): Promise<void> {
  if (!accountName.test(name)) {
    throw new Error(
      `account name "${name}": use 1 to 64 lower-case letters, digits, ".", "_" or "-"`,
    );
  }
  const account = await hashPassword(name, password);
  const accounts = readAccounts(file).filter((a) => a.name !== name);
  accounts.push(account);
  accounts.sort((a, b) => (a.name < b.name ? -1 : 1));
  const tmp = `${file}.tmp-${process.pid}`;
  // The same mode as before, so an account change is a content change only.
  writeFileSync(tmp, `${JSON.stringify({ accounts }, null, 2)}\n`, {
    mode: statSync(file).mode & 0o777,
  });
  renameSync(tmp, file);
}

// Unknown names still cost one scrypt, so response time does not tell which accounts exist.
const decoy: Account = {
  name: '',
  salt: '00'.repeat(16),
  hash: '00'.repeat(keyLength),
  scrypt: { ...cost },
};

/** Checks a password in constant time (SKF-236); true only for a known account and its password. */
export async function verifyPassword(
  account: Account | undefined,
  password: string,
): Promise<boolean> {
  const a = account ?? decoy;
  const expected = Buffer.from(a.hash, 'hex');
  const actual = await derive(password, Buffer.from(a.salt, 'hex'), a.scrypt);
  return (
    account !== undefined && expected.length === actual.length && timingSafeEqual(expected, actual)
  );
}

/** The account name and password of an `Authorization: Basic …` header, if it is one. */
export function parseBasicAuth(
  header: string | undefined,
): { name: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Checks `Authorization: Basic` credentials against conf/accounts.json and returns the account
 * name, or undefined. A verified password is remembered for `ttlMs` as an HMAC under a key that
 * lives only in this process, so a client's every request does not cost a scrypt; any change to
 * accounts.json forgets them all. Wrong passwords always pay the full scrypt.
 */
export function createAuthenticator(
  file: string,
  ttlMs = 300_000,
): (header: string | undefined) => Promise<string | undefined> {
  const key = randomBytes(32);
  const verified = new Map<string, { mac: Buffer; expires: number }>();
  let seen = '';
  return async (header) => {
    const creds = parseBasicAuth(header);
    if (!creds) return undefined;
    const st = statSync(file);
    const stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (stamp !== seen) {
      verified.clear();
      seen = stamp;
    }
    const mac = createHmac('sha256', key).update(`${creds.name}\0${creds.password}`).digest();
    const hit = verified.get(creds.name);
    if (hit && hit.expires > Date.now() && timingSafeEqual(hit.mac, mac)) return creds.name;
    const account = readAccounts(file).find((a) => a.name === creds.name);
    if (!(await verifyPassword(account, creds.password))) return undefined;
    verified.set(creds.name, { mac, expires: Date.now() + ttlMs });
    return creds.name;
  };
}
