import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/**
 * Starting and stopping a throwaway PostgreSQL server on 127.0.0.1 (test/util/postgres.ts uses
 * it; test/util/pg-global-setup.ts stops it). No vitest import: global setup cannot load vitest.
 */

/** The server as the starter describes it to the other test files. */
export interface PgServer {
  /** A superuser URL with its password, on 127.0.0.1. */
  adminUrl: string;
  binDir: string;
  dataDir: string;
  /** Seconds from initdb to accepting connections. */
  startSeconds: number;
}

/** The bin folder of a PostgreSQL server install: Debian's newest, else one on PATH. */
export function postgresBinDir(): string | undefined {
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin/initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(debian, versions[0], 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':'))
    if (dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  return undefined;
}

const asRoot = () => process.getuid?.() === 0;

/** Whether these tests can have a PostgreSQL; when not, the reason. */
export function postgresMissing(): string | undefined {
  if (process.env.UPLIFT_TEST_PG_URL) return undefined;
  if (postgresBinDir() === undefined)
    return 'no PostgreSQL server binaries (initdb): install Debian `postgresql` or set UPLIFT_TEST_PG_URL';
  if (asRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0)
    return 'no `postgres` user to run the server as (initdb refuses root): install Debian `postgresql`';
  return undefined;
}

/** Runs a server binary as `postgres` when we are root (initdb and postgres refuse root). */
function runPg(binDir: string, cmd: string, args: string[]): string {
  const file = join(binDir, cmd);
  const [exe, argv] = asRoot()
    ? ['runuser', ['-u', 'postgres', '--', file, ...args]]
    : [file, args];
  return execFileSync(exe as string, argv as string[], { encoding: 'utf8', stdio: 'pipe' });
}

/** initdb + start in `dir` (made here, owned by `postgres` when we are root). */
export async function startPostgresServer(dir: string): Promise<PgServer> {
  const binDir = postgresBinDir();
  if (binDir === undefined) throw new Error(postgresMissing());
  const started = performance.now();
  mkdirSync(dir, { recursive: true });
  if (asRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const password = randomBytes(12).toString('hex');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  const dataDir = join(dir, 'data');
  const user = asRoot() ? 'postgres' : userInfo().username;
  // Loopback TCP asks for the password, so the tests use a URL with one, as operators do.
  runPg(binDir, 'initdb', [
    '-D',
    dataDir,
    '-U',
    user,
    '--pwfile',
    pwfile,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--no-sync',
    '--no-instructions',
  ]);
  rmSync(pwfile);
  const port = await freePort();
  // A test server: durability off (fsync, full pages) for speed; a crash loses only test data.
  const opts = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c full_page_writes=off',
    '-c synchronous_commit=off',
    '-c max_connections=200',
  ].join(' ');
  runPg(binDir, 'pg_ctl', [
    '-D',
    dataDir,
    '-l',
    join(dir, 'log'),
    '-w',
    '-t',
    '60',
    '-o',
    opts,
    'start',
  ]);
  return {
    adminUrl: `postgres://${user}:${password}@127.0.0.1:${port}/postgres`,
    binDir,
    dataDir,
    startSeconds: (performance.now() - started) / 1000,
  };
}

export function stopPostgresServer(server: Pick<PgServer, 'binDir' | 'dataDir'>): void {
  try {
    runPg(server.binDir, 'pg_ctl', ['-D', server.dataDir, '-m', 'immediate', '-w', 'stop']);
  } catch {
    // Already stopped.
  }
}
