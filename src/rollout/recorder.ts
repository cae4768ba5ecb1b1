import { appendFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  AuditEntry,
  NodeStateRecord,
  PlanKey,
  StateStore,
  StepTiming,
} from '../state/types.ts';

export const defaultPendingAuditFile = '.uplift/audit-pending.jsonl';

/**
 * Writes a run's records to the state store. When the store cannot be reached (or fails once),
 * the run goes on: the nodes' journals stay the truth of what happened, audit entries are
 * appended to a local file (flushed into the store by the next run that reaches it), and node
 * states and step timings of that stretch are not kept.
 */
export class Recorder {
  #store: StateStore | undefined;
  readonly #pending: string;
  #reachable: boolean;

  constructor(store: StateStore | undefined, pendingFile: string) {
    this.#store = store;
    this.#pending = pendingFile;
    this.#reachable = store !== undefined;
  }

  get reachable(): boolean {
    return this.#reachable;
  }

  get store(): StateStore | undefined {
    return this.#reachable ? this.#store : undefined;
  }

  /** Runs a store call; a failure marks the store unreachable for the rest of the run. */
  async try<T>(f: (s: StateStore) => Promise<T>): Promise<T | undefined> {
    const s = this.store;
    if (s === undefined) return undefined;
    try {
      return await f(s);
    } catch {
      this.#reachable = false;
      return undefined;
    }
  }

  async audit(e: AuditEntry): Promise<void> {
    const ok = await this.try(async (s) => {
      await s.audit(e);
      return true;
    });
    if (ok) return;
    mkdirSync(dirname(this.#pending), { recursive: true });
    appendFileSync(
      this.#pending,
      `${JSON.stringify({ ...e, detail: { ...e.detail, recordedAt: new Date().toISOString() } })}\n`,
    );
  }

  async nodeState(s: Omit<NodeStateRecord, 'updatedAt'>): Promise<void> {
    await this.try((st) => st.setNodeState(s));
  }

  async step(t: Omit<StepTiming, 'at'>): Promise<void> {
    await this.try((st) => st.recordStep(t));
  }

  async deploymentPlan(p: {
    runId: string;
    env: string;
    deployment: string;
    key: PlanKey;
    outcome: 'running' | 'passed' | 'failed' | 'rolled-back';
  }): Promise<void> {
    await this.try((st) => st.recordDeploymentPlan(p));
  }

  /** Moves audit entries a run could not store into the store; returns how many. */
  async flushPending(): Promise<number> {
    let text: string;
    try {
      text = readFileSync(this.#pending, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw e;
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    let done = 0;
    for (const line of lines) {
      let entry: AuditEntry;
      try {
        entry = JSON.parse(line) as AuditEntry;
      } catch {
        // A line cut by a crash mid-append: the entries before it are whole.
        continue;
      }
      const ok = await this.try(async (s) => {
        await s.audit(entry);
        return true;
      });
      if (!ok) {
        // Keep what was not stored; entries already stored are not written twice.
        const rest = lines.slice(lines.indexOf(line)).join('\n');
        rmSync(this.#pending, { force: true });
        appendFileSync(this.#pending, `${rest}\n`);
        return done;
      }
      done++;
    }
    rmSync(this.#pending, { force: true });
    return done;
  }
}
