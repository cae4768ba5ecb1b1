#!/usr/bin/env node
// Smoke test of a running Verdaccio registry, the way its clients use it: publish a throwaway
// package with the real npm CLI, install it back into an empty project, then remove every trace.
//
//   node smoke.mjs REGISTRY_URL
//
// It authenticates as an account the operator names (the profile's readme.md):
//   VERDACCIO_SMOKE_TOKEN                          a token of that account, or
//   VERDACCIO_SMOKE_USER + VERDACCIO_SMOKE_PASSWORD   its name and password (exchanged for a token)
// Optional:
//   VERDACCIO_SMOKE_SCOPE   publish under this scope (`@ops`) when the registry's packages rules
//                           let the account publish only there
//   VERDACCIO_SMOKE_NPM     the npm CLI to use (npm-cli.js or an npm executable); default: the npm
//                           shipped with this Node.js, else `npm` on PATH
//
// It never prints a password or a token. It creates no account. The package it publishes has a
// random name and is unpublished (every version) before it exits, pass or fail; the npm cache and
// configuration it uses live in a temporary folder that is removed too.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const usage = 'usage: node smoke.mjs REGISTRY_URL';

function fail(message) {
  process.stderr.write(`verdaccio smoke: ${message}\n`);
  process.exit(1);
}

const arg = process.argv[2];
if (!arg) fail(usage);
const registry = new URL(arg.endsWith('/') ? arg : `${arg}/`);
if (registry.protocol !== 'http:' && registry.protocol !== 'https:')
  fail(`${arg} is not an http(s) URL (${usage})`);

/** The npm CLI: [program, ...leading args]. */
function npmCommand() {
  const given = process.env.VERDACCIO_SMOKE_NPM;
  if (given)
    return given.endsWith('.js') ? [process.execPath, given] : [given];
  const bundled = join(dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['npm'];
}

/** Exchanges the operator's account for a token (the npm login request), without printing either. */
async function tokenFor(user, password) {
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  const res = await fetch(new URL(`-/user/org.couchdb.user:${encodeURIComponent(user)}`, registry), {
    method: 'PUT',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password, type: 'user', roles: [] }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || typeof body.token !== 'string')
    fail(`the registry refused the account ${user} (HTTP ${res.status}); check VERDACCIO_SMOKE_USER and VERDACCIO_SMOKE_PASSWORD`);
  return body.token;
}

async function token() {
  if (process.env.VERDACCIO_SMOKE_TOKEN) return process.env.VERDACCIO_SMOKE_TOKEN;
  const user = process.env.VERDACCIO_SMOKE_USER;
  const password = process.env.VERDACCIO_SMOKE_PASSWORD;
  if (!user || !password)
    fail('name the account to publish with: VERDACCIO_SMOKE_TOKEN, or VERDACCIO_SMOKE_USER and VERDACCIO_SMOKE_PASSWORD');
  return tokenFor(user, password);
}

const tmp = await mkdtemp(join(tmpdir(), 'verdaccio-smoke-'));
const npm = npmCommand();
// npm's configuration and cache stay in the temporary folder: nothing touches the operator's ~/.npmrc.
const env = {
  ...process.env,
  npm_config_userconfig: join(tmp, 'npmrc'),
  npm_config_cache: join(tmp, 'cache'),
  npm_config_registry: registry.href,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'warn',
};

function runNpm(args, cwd) {
  const [program, ...lead] = npm;
  const r = spawnSync(program, [...lead, ...args], { cwd, env, encoding: 'utf8', timeout: 90_000 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`npm ${args[0]} failed (exit ${r.status ?? r.signal ?? r.error?.message}):\n${out}`);
  }
  return r.stdout;
}

const scope = process.env.VERDACCIO_SMOKE_SCOPE;
if (scope && !/^@[a-z0-9][a-z0-9._-]*$/.test(scope)) fail(`VERDACCIO_SMOKE_SCOPE ${scope} is not a scope such as @ops`);
const name = `${scope ? `${scope}/` : ''}uplift-smoke-${randomBytes(6).toString('hex')}`;
const version = '1.0.0';
const marker = randomBytes(8).toString('hex');
let published = false;
let failure;

try {
  const auth = await token();
  // The token is scoped to this registry only (npm's "nerf dart" key), in a file only we read.
  const nerf = `//${registry.host}${registry.pathname}`;
  await writeFile(env.npm_config_userconfig, `registry=${registry.href}\n${nerf}:_authToken=${auth}\n`, {
    mode: 0o600,
  });

  const pkgDir = join(tmp, 'package');
  await mkdir(pkgDir);
  await writeFile(
    join(pkgDir, 'package.json'),
    `${JSON.stringify({ name, version, description: 'uplift smoke test; removed right after', main: 'index.js', license: 'UNLICENSED' }, null, 2)}\n`,
  );
  await writeFile(join(pkgDir, 'index.js'), `module.exports = ${JSON.stringify(marker)};\n`);
  runNpm(['publish', '--registry', registry.href], pkgDir);
  published = true;
  process.stdout.write(`published ${name}@${version}\n`);

  const appDir = join(tmp, 'app');
  await mkdir(appDir);
  await writeFile(join(appDir, 'package.json'), '{ "name": "smoke-app", "version": "1.0.0", "private": true }\n');
  runNpm(['install', `${name}@${version}`, '--no-package-lock', '--registry', registry.href], appDir);
  const installed = join(appDir, 'node_modules', ...name.split('/'));
  const got = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8'));
  const content = await readFile(join(installed, 'index.js'), 'utf8');
  if (got.version !== version || !content.includes(marker))
    throw new Error(`the installed ${name} is not the one published (version ${got.version})`);
  process.stdout.write(`installed ${name}@${version} back with npm\n`);
} catch (err) {
  failure = err;
} finally {
  if (published) {
    try {
      runNpm(['unpublish', name, '--force', '--registry', registry.href], tmp);
      const res = await fetch(new URL(name.replace('/', '%2f'), registry), { signal: AbortSignal.timeout(15_000) });
      if (res.status !== 404) throw new Error(`${name} is still served after unpublish (HTTP ${res.status})`);
      process.stdout.write(`unpublished ${name}\n`);
    } catch (err) {
      failure ??= err;
      process.stderr.write(`verdaccio smoke: could not remove ${name}; remove it by hand (npm unpublish ${name} --force)\n`);
    }
  }
  await rm(tmp, { recursive: true, force: true });
}

if (failure) fail(failure instanceof Error ? failure.message : String(failure));
process.stdout.write('smoke test passed\n');
