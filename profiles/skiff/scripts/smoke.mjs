// skiff's smoke test: `node smoke.mjs INSTALL`. A temporary account (added to conf/accounts.json
// the way skiff's own tooling does), a file uploaded, downloaded byte for byte, seen in
// /transfers, deleted; then every trace removed: the account file's exact bytes back, the
// account's data folder and tracking rows gone. The transfer stays in var/log/xferlog, the audit
// trail. Exits 0 when every step passed; otherwise prints the step that failed and exits 1.
import { randomBytes, scrypt } from 'node:crypto';
import { lstatSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { request, skiffEndpoint } from './skiff-url.mjs';

const install = process.argv[2];
const endpoint = skiffEndpoint(install);
if (endpoint.problem) {
  console.log(endpoint.problem);
  process.exit(1);
}

const accountsFile = join(install, 'conf/accounts.json');
const original = readFileSync(accountsFile);
const mode = lstatSync(accountsFile).mode & 0o7777;
const name = `uplift-smoke-${randomBytes(4).toString('hex')}`;
const password = randomBytes(18).toString('base64url');
const salt = randomBytes(16);
const hash = await new Promise((resolve, reject) =>
  scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
);
const replaceAccounts = (bytes) => {
  const tmp = `${accountsFile}.uplift-${process.pid}`;
  writeFileSync(tmp, bytes, { mode });
  renameSync(tmp, accountsFile);
};
const auth = { authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` };
const body = randomBytes(4096);

async function steps() {
  const parsed = JSON.parse(original.toString('utf8'));
  parsed.accounts.push({ name, salt: salt.toString('hex'), hash: hash.toString('hex'), scrypt: { N: 16384, r: 8, p: 1 } });
  replaceAccounts(`${JSON.stringify(parsed, null, 2)}\n`);
  const put = await request(endpoint, '/files/uplift-smoke.bin', { method: 'PUT', headers: auth, body });
  if (put.status !== 201) return `upload answered ${put.status}: ${put.body.toString('utf8').slice(0, 200)}`;
  const get = await request(endpoint, '/files/uplift-smoke.bin', { headers: auth });
  if (get.status !== 200 || !get.body.equals(body)) return `download answered ${get.status} with other bytes`;
  let tracked = false;
  for (let i = 0; i < 25 && !tracked; i++) {
    const t = await request(endpoint, '/transfers', { headers: auth });
    // The upload and the download: the server records each just after it answers.
    tracked = t.status === 200 && t.body.toString('utf8').split('uplift-smoke.bin').length > 2;
    if (!tracked) await sleep(100);
  }
  if (!tracked) return 'the upload and the download are not both in /transfers';
  const del = await request(endpoint, '/files/uplift-smoke.bin', { method: 'DELETE', headers: auth });
  if (del.status !== 204) return `delete answered ${del.status}`;
  return undefined;
}

function removeTrackingRows() {
  const db = new Database(join(install, 'var/db/skiff.db'), { timeout: 5000 });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
    for (const t of ['file_tracking', 'transfers'])
      if (tables.includes(t)) db.prepare(`DELETE FROM ${t} WHERE account = ?`).run(name);
  } finally {
    db.close();
  }
}

let failure;
try {
  failure = await steps();
} catch (err) {
  failure = err.message;
} finally {
  replaceAccounts(original);
  rmSync(join(install, 'data', name), { recursive: true, force: true });
  removeTrackingRows();
}
if (failure) {
  console.log(`smoke test failed: ${failure}`);
  process.exit(1);
}
console.log('upload, download, tracked, delete: passed');
