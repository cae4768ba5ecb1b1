import type { SSEStreamingApi } from 'hono/streaming';
import type { AuditEntry, OpenedStateStore } from '../state/index.ts';

export interface AuditFeedOptions {
  /** How often the feed reads the audit for new rows (one query for every open stream). */
  pollMs: number;
  /** How often each stream gets a `: heartbeat` comment (and its session's token is re-checked). */
  heartbeatMs: number;
  /** Aborted when the server shuts down: every stream ends. */
  closing?: AbortSignal;
  log: (line: string) => void;
}

/** One open stream: the run it follows, the last row id it was sent, what it has still to write. */
interface Follower {
  runId: string;
  last: number;
  /** The sha256 of the session's token, re-checked at each heartbeat; none for a bearer token. */
  tokenHash: string | undefined;
  /** Rows read by the feed while this stream's catch-up read was still running. */
  caughtUp: boolean;
  pending: Row[];
  queue: (Row | 'heartbeat')[];
  ended: boolean;
  wake: () => void;
}

/** An audit row as a stream sends it: serialised once, whoever many streams send it. */
interface Row {
  id: number;
  data: string;
}

const toRow = (e: AuditEntry): Row => ({ id: e.id ?? 0, data: JSON.stringify(e) });

/**
 * The live events of runs (`GET /api/runs/:id/events`) for every open stream at once: while any
 * stream is open, ONE poller reads the audit table for rows newer than the last it read (whatever
 * their run) every `pollMs`, and hands each row to the streams of its run; it stops when the last
 * stream ends. A stream that starts after a `Last-Event-ID` (or from the beginning) first reads its
 * own run's older rows once, then takes the shared rows with a greater id: nothing is sent twice,
 * nothing is skipped, in id order. Every `heartbeatMs` (at the poller's tick) every stream gets a
 * heartbeat at once, and the revocation check behind it asks the store once per token, not per
 * stream (a stream that joined since the last beat gets its first one sooner).
 *
 * Ids are the audit's own, assigned in commit order by SQLite's single writer. (On PostgreSQL a
 * sequence value can commit after a greater one; a row that does so within one poll interval of a
 * later one is not sent live, as it was not before this feed. A reconnect's catch-up read finds it.)
 */
export class AuditFeed {
  readonly #store: OpenedStateStore;
  readonly #o: AuditFeedOptions;
  readonly #followers = new Set<Follower>();
  /** The greatest audit id the poller has read; set when the poller starts. */
  #cursor: Promise<number> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped when the poller stops: a tick still reading for a stopped poller then drops its rows. */
  #generation = 0;
  /** When the last heartbeat went out (or the poller started). */
  #beat = 0;

  constructor(store: OpenedStateStore, o: AuditFeedOptions) {
    this.#store = store;
    this.#o = o;
    o.closing?.addEventListener('abort', () => this.#endAll(), { once: true });
  }

  /** How many streams are open (for tests and the bench). */
  get followers(): number {
    return this.#followers.size;
  }

  /**
   * Streams the audit rows of `runId` with an id greater than `afterId` on `stream`, then every
   * new one as it is written, until the client leaves, the server closes, the feed fails, or the
   * session's token is revoked (seen at a heartbeat).
   */
  async follow(
    stream: SSEStreamingApi,
    runId: string,
    afterId: number,
    tokenHash: string | undefined,
  ): Promise<void> {
    await stream.write('retry: 1000\n\n');
    if (this.#o.closing?.aborted || stream.aborted) return;
    const f: Follower = {
      runId,
      last: afterId,
      tokenHash,
      caughtUp: false,
      pending: [],
      queue: [],
      ended: false,
      wake: () => {},
    };
    this.#followers.add(f);
    stream.onAbort(() => this.#end(f));
    try {
      // The poller's cursor first, then this run's older rows: a row written between the two reads
      // is in one of them, and a row in both is sent once (ids only grow).
      let older: AuditEntry[];
      try {
        await this.#start();
      } catch {
        return; // the poller's start failed: #start logged it and ended every stream
      }
      try {
        older = await this.#store.listAudit({ runId, afterId });
      } catch (err) {
        return this.#fail(err);
      }
      for (const e of older) f.queue.push(toRow(e));
      for (const r of f.pending) f.queue.push(r);
      f.pending = [];
      f.caughtUp = true;
      while (!f.ended) {
        const item = f.queue.shift();
        if (item === undefined) {
          await new Promise<void>((resolve) => {
            f.wake = resolve;
          });
          continue;
        }
        if (item === 'heartbeat') await stream.write(': heartbeat\n\n');
        else if (item.id > f.last) {
          await stream.writeSSE({ id: String(item.id), event: 'audit', data: item.data });
          f.last = item.id;
        }
      }
    } finally {
      this.#end(f);
    }
  }

  #start(): Promise<number> {
    if (this.#cursor === undefined) {
      const generation = this.#generation;
      this.#beat = Date.now();
      this.#cursor = this.#store.listAudit({ limit: 1 }).then((rows) => rows.at(-1)?.id ?? 0);
      this.#cursor.then(
        () => this.#schedule(generation),
        (err: unknown) => this.#fail(err),
      );
    }
    return this.#cursor;
  }

  #schedule(generation: number): void {
    if (generation !== this.#generation) return;
    if (this.#followers.size === 0) {
      this.#stop();
      return;
    }
    this.#timer = setTimeout(() => void this.#tick(generation), this.#o.pollMs);
  }

  async #tick(generation: number): Promise<void> {
    this.#timer = undefined;
    try {
      const cursor = await (this.#cursor as Promise<number>);
      const rows = await this.#store.listAudit({ afterId: cursor });
      if (generation !== this.#generation) return;
      const last = rows.at(-1)?.id;
      if (last !== undefined) this.#cursor = Promise.resolve(last);
      this.#hand(rows);
      await this.#heartbeats();
    } catch (err) {
      if (generation === this.#generation) this.#fail(err);
      return;
    }
    this.#schedule(generation);
  }

  /** Each row to the streams of its run. */
  #hand(rows: AuditEntry[]): void {
    if (rows.length === 0) return;
    const byRun = new Map<string, Row[]>();
    for (const e of rows) {
      if (e.runId === undefined) continue;
      const list = byRun.get(e.runId) ?? [];
      list.push(toRow(e));
      byRun.set(e.runId, list);
    }
    for (const f of this.#followers) {
      const mine = byRun.get(f.runId);
      if (mine === undefined) continue;
      if (f.caughtUp) f.queue.push(...mine);
      else f.pending.push(...mine);
      f.wake();
    }
  }

  /** One beat for every stream at once, so that the revocation check is once per token. */
  async #heartbeats(): Promise<void> {
    const now = Date.now();
    if (now - this.#beat < this.#o.heartbeatMs) return;
    this.#beat = now;
    const due = [...this.#followers];
    const hashes = [...new Set(due.flatMap((f) => (f.tokenHash ? [f.tokenHash] : [])))];
    const live = new Set<string>();
    for (const h of hashes) if (await this.#store.tokenByHash(h)) live.add(h);
    for (const f of due) {
      // A revoked token's stream ends at its next heartbeat.
      if (f.tokenHash !== undefined && !live.has(f.tokenHash)) this.#end(f);
      else {
        f.queue.push('heartbeat');
        f.wake();
      }
    }
  }

  #end(f: Follower): void {
    f.ended = true;
    f.wake();
    this.#followers.delete(f);
    if (this.#followers.size === 0) this.#stop();
  }

  #endAll(): void {
    for (const f of [...this.#followers]) this.#end(f);
  }

  #stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#cursor !== undefined) this.#generation++;
    this.#cursor = undefined;
  }

  #fail(err: unknown): void {
    this.#o.log(
      `live events stopped: the audit could not be read: ${err instanceof Error ? err.message : String(err)}`,
    );
    this.#endAll();
    this.#stop();
  }
}
