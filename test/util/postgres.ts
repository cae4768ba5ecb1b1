import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, inject, it } from 'vitest';
import { type PgServer, postgresMissing, startPostgresServer } from './postgres-server.ts';

export { postgresMissing };

/**
 * A real PostgreSQL for the tests, on 127.0.0.1. With UPLIFT_TEST_PG_URL, that server (its URL
 * must allow CREATE DATABASE). Otherwise one server per `vitest run`, shared by every test file
 * that asks for one: the first such file starts it (initdb of a temporary cluster, run as the
 * `postgres` user when the tests run as root, since initdb refuses root) in the folder that
 * test/util/pg-global-setup.ts made, and that global setup stops it when the run ends. A run that
 * uses no PostgreSQL starts none. Each test file (or test) gets its own database.
 */

declare module 'vitest' {
  interface ProvidedContext {
    /** The folder the shared server lives in (test/util/pg-global-setup.ts). */
    upliftPgDir: string;
  }
}

let shared: Promise<PgServer> | undefined;

/** The run's shared server: started by the first file that asks, found by the others. */
async function sharedServer(): Promise<PgServer> {
  const dir = inject('upliftPgDir');
  if (!dir)
    throw new Error(
      'no shared PostgreSQL folder: register test/util/pg-global-setup.ts as a globalSetup',
    );
  const info = join(dir, 'server.json');
  const failed = join(dir, 'failed');
  let starter = false;
  try {
    mkdirSync(join(dir, 'starting'));
    starter = true;
  } catch {
    // Another test file is starting it (or did).
  }
  if (starter) {
    try {
      const server = await startPostgresServer(join(dir, 'pg'));
      writeFileSync(`${info}.tmp`, JSON.stringify(server));
      renameSync(`${info}.tmp`, info);
      return server;
    } catch (err) {
      writeFileSync(failed, String((err as Error).stack ?? err));
      throw err;
    }
  }
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (existsSync(info)) return JSON.parse(readFileSync(info, 'utf8'));
    if (existsSync(failed))
      throw new Error(`the shared PostgreSQL did not start:\n${readFileSync(failed, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the shared PostgreSQL did not start within 120 s');
}

/** The admin URL of the PostgreSQL the tests use. */
export async function testPostgresAdminUrl(): Promise<string> {
  if (process.env.UPLIFT_TEST_PG_URL) return process.env.UPLIFT_TEST_PG_URL;
  shared ??= sharedServer();
  return (await shared).adminUrl;
}

/** Seconds the shared server took to start, when this process or run started it. */
export async function testPostgresStartSeconds(): Promise<number | undefined> {
  if (process.env.UPLIFT_TEST_PG_URL) return undefined;
  shared ??= sharedServer();
  return (await shared).startSeconds;
}

/** A new, empty database on the test server, and its URL (with the password). */
export async function createTestDatabase(): Promise<string> {
  const admin = await testPostgresAdminUrl();
  const name = `uplift_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.href;
}

/**
 * A fresh, empty place for a state store of either kind: a new SQLite file under `dir`, or a new
 * database on the test PostgreSQL. Pass it to openStateStore with `env: {}`, so that an
 * UPLIFT_DATABASE_URL in the test's environment does not redirect a SQLite test.
 */
export async function freshStateTarget(
  kind: 'sqlite' | 'postgres',
  dir: string,
): Promise<{ url?: string; file?: string }> {
  if (kind === 'sqlite') return { file: join(dir, `state-${randomBytes(4).toString('hex')}.db`) };
  return { url: await createTestDatabase() };
}

export type StoreKind = 'sqlite' | 'postgres';

/**
 * The same tests with the SQLite store and with a real PostgreSQL (issue 13: "the same tests pass
 * with SQLite and with a real PostgreSQL"); `title` has a `%s` for the kind. `body` gets the kind and declares its hooks and tests.
 * Without PostgreSQL its half fails under CI=true (`.ci/run` installs it) and is skipped elsewhere.
 */
export function describeEachStore(title: string, body: (kind: StoreKind) => void): void {
  const pgMissing = postgresMissing();
  describe.each<StoreKind>(['sqlite', 'postgres'])(title, (kind) => {
    if (kind === 'postgres' && pgMissing !== undefined) {
      if (process.env.CI === 'true')
        it('has a PostgreSQL to test against', () => {
          throw new Error(pgMissing);
        });
      else it.skip(`needs PostgreSQL (${pgMissing})`, () => {});
      return;
    }
    body(kind);
  });
}
