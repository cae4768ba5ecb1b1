import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { ClientConfig } from 'pg';
import { UpliftError } from '../errors/index.ts';
import { postgresClaims, sqliteClaims } from './claims.ts';
import type { Tables } from './db.ts';
import { migrateToLatest } from './migrate.ts';
import { KyselyStateStore } from './store.ts';
import type { StateStore } from './types.ts';

export type * from './types.ts';

/** The store openStateStore returns: the contract with every optional reader present. */
export type OpenedStateStore = StateStore &
  Required<
    Pick<
      StateStore,
      | 'listClaims'
      | 'listRuns'
      | 'stepTimings'
      | 'stepTimingsByPrefix'
      | 'runFacts'
      | 'lastFacts'
      | 'recordCheck'
      | 'lastCheck'
      | 'lastChecks'
      | 'lastSurveys'
      | 'createToken'
      | 'listTokens'
      | 'revokeToken'
      | 'tokenByHash'
    >
  >;

/** The SQLite file when neither a URL nor a file is given, relative to the working folder. */
export const defaultStateFile = '.uplift/state.db';

const connectTimeoutMs = 10_000;
const busyTimeoutMs = 10_000;

/** Where the state store is: a checked PostgreSQL URL, or a SQLite file (absolute). */
export type StateTarget = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/**
 * Which store `openStateStore` would open, checked without touching the network or the disk:
 * PostgreSQL when `url` or UPLIFT_DATABASE_URL is set (an empty UPLIFT_DATABASE_URL counts as
 * unset), else SQLite in `file` (default `.uplift/state.db`). A URL that is not
 * `postgres://` or `postgresql://` with a host (or a `host=` parameter) and a port from 1 to
 * 65535 is UPLIFT_USAGE; the message never shows its password.
 */
export function stateTarget(
  o: { url?: string; file?: string; env?: NodeJS.ProcessEnv } = {},
): StateTarget {
  const env = o.env ?? process.env;
  const url = o.url ?? (env.UPLIFT_DATABASE_URL || undefined);
  if (url === undefined) return { kind: 'sqlite', file: resolve(o.file ?? defaultStateFile) };
  checkDatabaseUrl(url);
  return { kind: 'postgres', url };
}

function checkDatabaseUrl(url: string): void {
  const refuse = (why: string) =>
    new UpliftError('UPLIFT_USAGE', `UPLIFT_DATABASE_URL ${why}`, {
      hint: 'write it as postgres://user:password@host:5432/database, or unset it to use the SQLite file (docs/state.md)',
      unchanged: true,
    });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw refuse(
      'is not a URL (or its port is not a number from 1 to 65535): uplift stores its state in PostgreSQL or SQLite',
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:')
    throw refuse(
      `names the scheme "${u.protocol.replace(/:$/, '')}://": uplift's state store is PostgreSQL (postgres:// or postgresql://)`,
    );
  if (u.hostname === '' && !u.searchParams.has('host'))
    throw refuse(`${redactDatabaseUrl(url)} names no host`);
  if (u.port !== '' && Number(u.port) < 1)
    throw refuse(`${redactDatabaseUrl(url)} names port ${u.port}: give a port from 1 to 65535`);
}

/**
 * Opens the state store (docs/state.md) and brings its schema up to date: PostgreSQL when `url`
 * or UPLIFT_DATABASE_URL is set, else SQLite in `file` (default `.uplift/state.db`). With
 * `readOnly` (a command that only reads, a dry run, one that will be refused) a SQLite file that
 * does not exist is not created: an empty store in memory stands in for it, and is gone at close.
 */
export async function openStateStore(
  o: { url?: string; file?: string; env?: NodeJS.ProcessEnv; readOnly?: boolean } = {},
): Promise<OpenedStateStore> {
  const env = o.env ?? process.env;
  const target = stateTarget(o);
  if (target.kind === 'postgres') return openPostgres(target.url, env);
  const inMemory = o.readOnly === true && !existsSync(target.file);
  return openSqlite(target.file, inMemory);
}

async function openSqlite(file: string, inMemory: boolean): Promise<OpenedStateStore> {
  const { default: Database } = await import('better-sqlite3');
  let db: Kysely<Tables> | undefined;
  const label = inMemory ? `${file} (not there yet: nothing recorded)` : file;
  try {
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    // The busy timeout makes a second process wait for the write lock instead of failing at once.
    const sqlite = new Database(inMemory ? ':memory:' : file, { timeout: busyTimeoutMs });
    sqlite.pragma('journal_mode = WAL');
    db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: sqlite }) });
    await migrateToLatest(db as Kysely<unknown>, 'sqlite', file);
  } catch (err) {
    await db?.destroy();
    if (err instanceof UpliftError) throw err;
    throw new UpliftError(
      'UPLIFT_STATE_UNREACHABLE',
      `cannot open the state store ${file}: ${reasonOf(err)}`,
      {
        hint: 'make the folder writable, or choose another file with --state (or a PostgreSQL server with UPLIFT_DATABASE_URL)',
        unchanged: true,
      },
    );
  }
  return new KyselyStateStore({ kind: 'sqlite', label, db, claims: sqliteClaims(db) });
}

async function openPostgres(url: string, env: NodeJS.ProcessEnv): Promise<OpenedStateStore> {
  const { default: pg } = await import('pg');
  const label = redactDatabaseUrl(url);
  const secrets = secretsOf(url, env);
  const config: ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    application_name: 'uplift',
  };
  const fail = (err: unknown) =>
    new UpliftError(
      'UPLIFT_STATE_UNREACHABLE',
      `cannot use the state store ${label}: ${scrub(reasonOf(err), secrets)}`,
      {
        hint: 'check that the PostgreSQL server runs and that UPLIFT_DATABASE_URL names a reachable host, a user it accepts and an existing database',
        unchanged: true,
      },
    );

  const pool = new pg.Pool({ ...config, max: 4 });
  // An idle pooled connection that breaks emits here; the next query reports it instead.
  pool.on('error', () => {});
  const db = new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(db as Kysely<unknown>, 'postgres', label);
  } catch (err) {
    await db.destroy().catch(() => {});
    throw err instanceof UpliftError ? err : fail(err);
  }

  const connect = async () => {
    const client = new pg.Client(config);
    client.on('error', () => {});
    try {
      await client.connect();
      // The server notices a controller host that vanished (no FIN) within about a minute and
      // ends its session, which releases the claim; the OS default would take hours.
      await client.query(
        'SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3',
      );
      return client;
    } catch (err) {
      await client.end().catch(() => {});
      throw fail(err);
    }
  };
  return new KyselyStateStore({
    kind: 'postgres',
    label,
    db,
    claims: postgresClaims(db, connect),
  });
}

/**
 * A database URL fit for messages: its password (in the authority or as a `password` query
 * parameter) replaced by `***`. What does not parse as a URL is not shown at all, since its
 * password cannot be found in it.
 */
export function redactDatabaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '(an unparseable database URL)';
  }
  if (u.password) u.password = '***';
  for (const name of [...u.searchParams.keys()])
    if (/pass/i.test(name)) u.searchParams.set(name, '***');
  return u.href.replaceAll('%2A%2A%2A', '***');
}

/** Every form of the password a message could carry, longest first. */
function secretsOf(url: string, env: NodeJS.ProcessEnv): string[] {
  const found = new Set<string>();
  try {
    const u = new URL(url);
    for (const p of [
      u.password,
      ...[...u.searchParams].filter(([k]) => /pass/i.test(k)).map(([, v]) => v),
    ])
      if (p) {
        found.add(p);
        found.add(decodeURIComponent(p));
        found.add(encodeURIComponent(decodeURIComponent(p)));
      }
  } catch {
    // Nothing to find in an unparseable URL; pg will refuse it and the message never quotes it.
  }
  if (env.PGPASSWORD) found.add(env.PGPASSWORD);
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.replaceAll(s, '***');
  return out;
}

/** What went wrong, in one line: a connection refused by every address shows as its code. */
function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const e = err as Error & { code?: string; errors?: unknown[] };
  const inner = e.errors?.map((x) => (x instanceof Error ? x.message : String(x))).join('; ');
  const text = e.message || inner || e.code || e.name;
  return e.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
}
