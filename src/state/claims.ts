import { hostname } from 'node:os';
import { type Kysely, sql } from 'kysely';
import type { Client } from 'pg';
import { isAlive, sha256 } from '../util/index.ts';
import type { Tables } from './db.ts';
import type { Claims } from './store.ts';
import type { Claim, ClaimRecord } from './types.ts';

/** How often a SQLite claim's holder proves it is alive. */
const heartbeatMs = 15_000;
/** A SQLite claim whose heartbeat is older than this is stale, whoever holds it. */
export const staleAfterMs = 60_000;

const now = () => new Date().toISOString();

function toRecord(r: Tables['claims'], live: boolean): ClaimRecord {
  return {
    deploymentKey: r.deployment_key,
    controller: r.controller,
    pid: Number(r.pid),
    hostname: r.hostname,
    claimedAt: r.claimed_at,
    heartbeatAt: r.heartbeat_at,
    live,
  };
}

/**
 * A SQLite claim row is stale when its holder is known dead (this host, pid gone) or has not
 * proved itself alive for `staleAfterMs` (another host, or a pid reused since).
 */
function isStale(r: Tables['claims'], at = Date.now()): boolean {
  if (r.hostname === hostname() && !isAlive(Number(r.pid))) return true;
  return Date.parse(r.heartbeat_at) < at - staleAfterMs;
}

/**
 * Claims on SQLite: a row per claimed deployment, written inside an IMMEDIATE transaction so two
 * processes cannot both see the key free; the holder keeps a heartbeat on it while it works.
 * The database file is local, so every controller runs on this host or shares the file.
 */
export function sqliteClaims(db: Kysely<Tables>): Claims {
  const held = new Set<Claim>();
  return {
    async claim(deploymentKey, controller) {
      const me = { controller, pid: process.pid, hostname: hostname() };
      const taken = await db.connection().execute(async (conn) => {
        await sql`BEGIN IMMEDIATE`.execute(conn);
        let ok = false;
        try {
          const row = await conn
            .selectFrom('claims')
            .selectAll()
            .where('deployment_key', '=', deploymentKey)
            .executeTakeFirst();
          if (row === undefined || isStale(row)) {
            const at = now();
            await conn.deleteFrom('claims').where('deployment_key', '=', deploymentKey).execute();
            await conn
              .insertInto('claims')
              .values({ deployment_key: deploymentKey, ...me, claimed_at: at, heartbeat_at: at })
              .execute();
            ok = true;
          }
        } finally {
          await sql.raw(ok ? 'COMMIT' : 'ROLLBACK').execute(conn);
        }
        return ok;
      });
      if (!taken) return undefined;

      const mine = db
        .updateTable('claims')
        .where('deployment_key', '=', deploymentKey)
        .where('controller', '=', me.controller)
        .where('pid', '=', me.pid)
        .where('hostname', '=', me.hostname);
      let lost = false;
      let released = false;
      const timer = setInterval(() => {
        mine
          .set({ heartbeat_at: now() })
          .executeTakeFirst()
          .then((r) => {
            if (!released && Number(r.numUpdatedRows) === 0) lost = true;
          })
          .catch(() => {});
      }, heartbeatMs);
      timer.unref();
      const claim: Claim = {
        deploymentKey,
        controller,
        get lost() {
          return lost;
        },
        async release() {
          if (released) return;
          released = true;
          clearInterval(timer);
          held.delete(claim);
          await db
            .deleteFrom('claims')
            .where('deployment_key', '=', deploymentKey)
            .where('controller', '=', me.controller)
            .where('pid', '=', me.pid)
            .where('hostname', '=', me.hostname)
            .execute();
        },
      };
      held.add(claim);
      return claim;
    },

    async list() {
      const rows = await db.selectFrom('claims').selectAll().orderBy('deployment_key').execute();
      const at = Date.now();
      return rows.map((r) => toRecord(r, !isStale(r, at)));
    },

    async releaseAll() {
      for (const c of [...held]) await c.release();
    },
  };
}

/**
 * The advisory-lock key of a deployment: the first 64 bits of a sha256, as PostgreSQL's signed
 * bigint. A collision would only make two deployments exclude each other, never share one.
 */
function lockKey(deploymentKey: string): string {
  const hex = sha256(`uplift-claim\0${deploymentKey}`).slice(0, 16);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/**
 * Claims on PostgreSQL: a session advisory lock held on a connection of its own, not one of the
 * pool's. PostgreSQL ends the session when the controller dies or its connection breaks, and the
 * lock goes with it: no heartbeat, no stale rows to judge. The claims row is only for display
 * (`uplift fleet`); `live` in listClaims comes from pg_locks, never from the row.
 */
export function postgresClaims(db: Kysely<Tables>, connect: () => Promise<Client>): Claims {
  const held = new Set<Claim>();
  return {
    async claim(deploymentKey, controller) {
      const client = await connect();
      let lost = false;
      let released = false;
      client.on('error', () => {
        lost = true;
      });
      client.on('end', () => {
        if (!released) lost = true;
      });
      const key = lockKey(deploymentKey);
      try {
        const { rows } = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1::bigint) AS ok',
          [key],
        );
        if (rows[0]?.ok !== true) {
          released = true;
          await client.end();
          return undefined;
        }
        const at = now();
        const me = { controller, pid: process.pid, hostname: hostname() };
        await db
          .insertInto('claims')
          .values({ deployment_key: deploymentKey, ...me, claimed_at: at, heartbeat_at: at })
          .onConflict((oc) =>
            oc.column('deployment_key').doUpdateSet({ ...me, claimed_at: at, heartbeat_at: at }),
          )
          .execute();
      } catch (err) {
        released = true;
        await client.end().catch(() => {});
        throw err;
      }
      const claim: Claim = {
        deploymentKey,
        controller,
        get lost() {
          return lost;
        },
        async release() {
          if (released) return;
          released = true;
          held.delete(claim);
          try {
            await db
              .deleteFrom('claims')
              .where('deployment_key', '=', deploymentKey)
              .where('controller', '=', controller)
              .where('pid', '=', process.pid)
              .where('hostname', '=', hostname())
              .execute();
            if (!lost) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
          } finally {
            // Closing the session releases the lock even when the unlock above did not run.
            await client.end().catch(() => {});
          }
        },
      };
      held.add(claim);
      return claim;
    },

    async list() {
      const rows = await db.selectFrom('claims').selectAll().orderBy('deployment_key').execute();
      // A bigint advisory lock shows in pg_locks as its high (classid) and low (objid) 32 bits.
      const locks = await sql<{ classid: string; objid: string }>`
        SELECT classid::text AS classid, objid::text AS objid FROM pg_locks
        WHERE locktype = 'advisory' AND objsubid = 1 AND granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(
        db,
      );
      const live = new Set(
        locks.rows.map((l) =>
          BigInt.asIntN(64, (BigInt(l.classid) << 32n) | BigInt(l.objid)).toString(),
        ),
      );
      return rows.map((r) => toRecord(r, live.has(lockKey(r.deployment_key))));
    },

    async releaseAll() {
      for (const c of [...held]) await c.release();
    },
  };
}
