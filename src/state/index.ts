import { mkdirSync } from 'node:fs';
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

/**
 * Opens the state store (docs/state.md) and brings its schema up to date: PostgreSQL when `url`
 * or UPLIFT_DATABASE_URL is set, else SQLite in `file` (default `.uplift/state.db`).
 */
export async function openStateStore(
  o: { url?: string; file?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<OpenedStateStore> {
  const env = o.env ?? process.env;
  const url = o.url ?? (env.UPLIFT_DATABASE_URL || undefined);
  return url !== undefined
    ? openPostgres(url, env)
    : openSqlite(resolve(o.file ?? defaultStateFile));
}

async function openSqlite(file: string): Promise<OpenedStateStore> {
  const { default: Database } = await import('better-sqlite3');
  let db: Kysely<Tables> | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    // The busy timeout makes a second process wait for the write lock instead of failing at once.
    const sqlite = new Database(file, { timeout: busyTimeoutMs });
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
  return new KyselyStateStore({ kind: 'sqlite', label: file, db, claims: sqliteClaims(db) });
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
