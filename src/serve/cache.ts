import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defaultTopologyFile, openTopology, type Topology } from '../topology/index.ts';

/**
 * The topology file, parsed again only when it changes (its size, mtime or inode): the dashboard
 * reads it on every fleet, plan and action request, and a 1,000-node file takes tens of
 * milliseconds to parse and validate.
 */
export function cachedTopology(file: string | undefined): () => Promise<Topology> {
  const path = resolve(file ?? defaultTopologyFile);
  let last: { key: string; topology: Promise<Topology> } | undefined;
  return async () => {
    const s = await stat(path).catch(() => undefined);
    // A missing file is read (and refused with its coded error) every time.
    if (s === undefined) return openTopology({ topology: path });
    const key = `${s.ino}:${s.size}:${s.mtimeMs}`;
    if (last?.key !== key) {
      const topology = openTopology({ topology: path });
      last = { key, topology };
      topology.catch(() => {
        if (last?.topology === topology) last = undefined;
      });
    }
    return last.topology;
  };
}

/**
 * One computation shared by every request that asks for the same key within `ttlMs` of it
 * finishing (and by every request that arrives while it runs): 50 dashboards polling the store's
 * view of the fleet cost one read a second, not fifty. Failures are not kept.
 */
export class SharedResults<T> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { value: Promise<T>; doneAt?: number }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit !== undefined && (hit.doneAt === undefined || now - hit.doneAt < this.#ttlMs))
      return hit.value;
    const entry: { value: Promise<T>; doneAt?: number } = { value: compute() };
    this.#entries.set(key, entry);
    entry.value.then(
      () => {
        entry.doneAt = Date.now();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.value;
  }
}
