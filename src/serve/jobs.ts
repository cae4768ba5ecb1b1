import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { UpliftError } from '../errors/index.ts';
import type { StateStore } from '../state/index.ts';
import type { RolloutJob } from './schema.ts';

export interface RolloutJobsOptions {
  /**
   * How to run this uplift's CLI: the program and its first arguments, e.g. `[node, …/uplift.cjs]`
   * (`uplift serve` passes the command it was itself started with).
   */
  cli: string[];
  /** The topology file (`--topology`); default the rollout's own (./uplift.yaml in `cwd`). */
  topology?: string;
  /** The SQLite state file (`--state`); UPLIFT_DATABASE_URL in the environment wins, as for every command. */
  state?: string;
  /** Added to this process's environment for the rollout processes. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where the run id of a running job is read (the store the server reads). */
  store: Pick<StateStore, 'unfinishedRun'>;
  /** One line per job that starts or ends. */
  log?: (line: string) => void;
}

type JobAction = RolloutJob['action'];

interface Entry {
  job: RolloutJob;
  child?: ChildProcess;
  /** Settles when the rollout process has exited and the job has its final state. */
  ended: Promise<void>;
  done: () => void;
  stopAsked: boolean;
}

const keptLines = 200;

/** Where a job whose rollout printed `outcome` ends. */
const stateOf = {
  passed: 'passed',
  failed: 'failed',
  'rolled-back': 'rolled-back',
  interrupted: 'paused',
} as const;

/**
 * The rollout jobs of `uplift serve`: each one `uplift rollout` process (the same code path, audit
 * and crash-safety as the command), at most one per environment. A pause is SIGTERM to that
 * process: `rollout` stops between node actions (the node command under way finishes) and leaves
 * its run unfinished, to be resumed (`--resume`) or taken back (`--resume --abort`). The processes
 * run in their own process group, so a Ctrl-C on the server's terminal reaches them only as the
 * server's own SIGTERM (`stopAll`).
 */
export class RolloutJobs {
  readonly #o: RolloutJobsOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #held = new Set<string>();
  #closing = false;

  constructor(o: RolloutJobsOptions) {
    this.#o = o;
  }

  list(): RolloutJob[] {
    return [...this.#entries.values()]
      .map((e) => copy(e.job))
      .sort((a, b) => (a.env < b.env ? -1 : a.env > b.env ? 1 : 0));
  }

  get(env: string): RolloutJob | undefined {
    const e = this.#entries.get(env);
    return e && copy(e.job);
  }

  /**
   * Holds `env` while a start is checked (its dry run): refused when a job runs for it or another
   * start holds it. Call the returned function to let go (`run` does not need it held).
   */
  hold(env: string): () => void {
    this.#refuseBusy(env);
    this.#held.add(env);
    return () => this.#held.delete(env);
  }

  /** Starts `uplift rollout` for `env` (fresh, approved, or --resume). */
  run(o: {
    env: string;
    action: Exclude<JobAction, 'abort'>;
    actor: string;
    reason?: string;
    deployments?: string[];
    runId?: string;
    /** The hold of this start (`hold`), let go once the job is registered. */
    held?: () => void;
  }): RolloutJob {
    o.held?.();
    this.#refuseBusy(o.env);
    const entry = this.#register(o.env, o.action, o.actor, 'running', o);
    const more =
      o.action === 'approve'
        ? ['--override-gate', '--reason', o.reason ?? '']
        : o.action === 'resume'
          ? ['--resume']
          : [];
    this.#spawn(entry, [...(o.deployments ?? []).flatMap((d) => ['--deployment', d]), ...more]);
    return copy(entry.job);
  }

  /** Asks the running job of `env` to stop between node actions; its run stays unfinished. */
  pause(env: string): RolloutJob {
    const e = this.#entries.get(env);
    if (e === undefined || !isActive(e.job))
      throw new UpliftError('UPLIFT_SERVE_NOT_RUNNING', `no rollout job runs for ${env}`, {
        hint: 'start one (POST /api/rollouts) or resume the unfinished run (POST /api/rollouts/ENV/resume)',
      });
    this.#stop(e);
    return copy(e.job);
  }

  /**
   * Takes the environment's unfinished run back (`rollout --resume --abort`), after stopping its
   * running job between node actions. The abort job is `stopping` until that job has exited.
   */
  abort(o: { env: string; actor: string; reason?: string; runId?: string }): RolloutJob {
    if (this.#held.has(o.env) || this.#closing) this.#refuseBusy(o.env);
    const previous = this.#entries.get(o.env);
    const running = previous !== undefined && isActive(previous.job) ? previous : undefined;
    const entry = this.#register(o.env, 'abort', o.actor, running ? 'stopping' : 'running', {
      ...o,
      ...(o.runId === undefined && previous?.job.runId ? { runId: previous.job.runId } : {}),
    });
    if (running === undefined) {
      this.#spawn(entry, ['--resume', '--abort']);
      return copy(entry.job);
    }
    this.#stop(running);
    void running.ended.then(async () => {
      const unfinished = await this.#o.store.unfinishedRun(o.env).catch(() => undefined);
      if (entry.stopAsked || this.#closing || unfinished === undefined) {
        // Nothing to take back (the run ended before it could stop), or stopped again meanwhile.
        const why =
          unfinished === undefined
            ? `the run ended ${running.job.state} before it stopped: nothing to take back`
            : 'stopped before it began: the run stays unfinished';
        this.#end(entry, {
          state: unfinished === undefined ? running.job.state : 'paused',
          line: why,
        });
        return;
      }
      entry.job.runId = unfinished.id;
      entry.job.state = 'running';
      this.#spawn(entry, ['--resume', '--abort']);
    });
    return copy(entry.job);
  }

  /**
   * Server shutdown: no new job starts; every running job is asked to stop between node actions
   * (its run stays unfinished, resumable after a restart) and awaited up to `timeoutMs`.
   */
  async stopAll(timeoutMs: number): Promise<void> {
    this.#closing = true;
    const active = [...this.#entries.values()].filter((e) => isActive(e.job));
    for (const e of active) this.#stop(e);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(active.map((e) => e.ended)),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          const left = active.filter((e) => isActive(e.job)).map((e) => e.job.env);
          if (left.length > 0)
            this.#o.log?.(`left rollout jobs stopping in the background: ${left.join(', ')}`);
          resolve();
        }, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  #refuseBusy(env: string): void {
    if (this.#closing)
      throw new UpliftError('UPLIFT_SERVE_BUSY', 'the server is stopping: no rollout starts', {
        hint: 'start it again once the server is back',
      });
    const e = this.#entries.get(env);
    if (this.#held.has(env) || (e !== undefined && isActive(e.job)))
      throw new UpliftError(
        'UPLIFT_SERVE_BUSY',
        `a rollout job already runs for ${env}${e ? ` (${e.job.action} by ${e.job.actor})` : ''}`,
        { hint: 'wait for it to end (GET /api/rollouts/jobs/ENV), or pause or abort it' },
      );
  }

  #register(
    env: string,
    action: JobAction,
    actor: string,
    state: 'running' | 'stopping',
    o: { reason?: string; runId?: string },
  ): Entry {
    let done = () => {};
    const ended = new Promise<void>((resolve) => {
      done = resolve;
    });
    const entry: Entry = {
      job: {
        env,
        action,
        state,
        actor,
        ...(o.reason === undefined ? {} : { reason: o.reason }),
        startedAt: new Date().toISOString(),
        ...(o.runId === undefined ? {} : { runId: o.runId }),
        log: [],
      },
      ended,
      done,
      stopAsked: false,
    };
    this.#entries.set(env, entry);
    this.#o.log?.(`rollout job ${action} of ${env} by ${actor}`);
    return entry;
  }

  #end(e: Entry, o: { state: RolloutJob['state']; line?: string; exitCode?: number | null }): void {
    if (o.line !== undefined) push(e.job, o.line);
    e.job.state = o.state;
    e.job.endedAt = new Date().toISOString();
    if (o.exitCode !== undefined) e.job.exitCode = o.exitCode;
    this.#o.log?.(`rollout job ${e.job.action} of ${e.job.env} ended ${o.state}`);
    e.done();
  }

  #stop(e: Entry): void {
    e.stopAsked = true;
    if (!isActive(e.job)) return;
    e.job.state = 'stopping';
    if (e.child !== undefined && e.child.exitCode === null && e.child.signalCode === null)
      e.child.kill('SIGTERM');
  }

  #spawn(e: Entry, more: string[]): void {
    const { job } = e;
    const [program, ...pre] = this.#o.cli;
    if (program === undefined) throw new Error('unreachable: RolloutJobs without a cli command');
    const args = [
      ...pre,
      'rollout',
      '--env',
      job.env,
      '--yes',
      '--json',
      '--actor',
      job.actor,
      ...(this.#o.topology === undefined ? [] : ['--topology', this.#o.topology]),
      ...(this.#o.state === undefined ? [] : ['--state', this.#o.state]),
      ...more,
    ];
    const child = spawn(program, args, {
      cwd: this.#o.cwd ?? process.cwd(),
      env: { ...process.env, NO_COLOR: '1', ...this.#o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    e.child = child;
    let result: { outcome?: keyof typeof stateOf; runId?: string } | undefined;
    let error: { code: string; message: string } | undefined;
    let looking = false;
    const lookUpRunId = () => {
      if (job.runId !== undefined || looking) return;
      looking = true;
      void this.#o.store
        .unfinishedRun(job.env)
        .then((r) => {
          if (r !== undefined && job.runId === undefined && isActive(job)) job.runId = r.id;
        })
        .catch(() => {})
        .finally(() => {
          looking = false;
        });
    };
    // The --json lines: events (the run's id once it is known) and, last, the result or the error.
    createInterface({ input: child.stdout }).on('line', (line) => {
      const doc = parseLine(line);
      if (doc === undefined) return;
      if (doc.type === 'result' || doc.type === 'run') {
        result = doc as typeof result;
        if (typeof doc.runId === 'string') job.runId = doc.runId;
      } else if (isError(doc.error)) error = { code: doc.error.code, message: doc.error.message };
      else lookUpRunId();
    });
    // Standard error is the progress for people, one line per event, and the error when it failed
    // (the CLI redacts credentials there).
    createInterface({ input: child.stderr }).on('line', (line) => {
      if (line.trim() !== '') push(job, line);
    });
    let ended = false;
    const end = (code: number | null, signal: string | null) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) job.error = error;
      const state =
        result?.outcome !== undefined
          ? stateOf[result.outcome]
          : e.stopAsked && error === undefined
            ? 'paused'
            : 'failed';
      this.#end(e, {
        state,
        exitCode: code,
        ...(signal === null ? {} : { line: `the rollout process ended by ${signal}` }),
      });
    };
    child.once('error', (err) => {
      push(job, `cannot run uplift rollout: ${err.message}`);
      end(null, null);
    });
    child.once('close', end);
  }
}

function isActive(j: RolloutJob): boolean {
  return j.state === 'running' || j.state === 'stopping';
}

function push(j: RolloutJob, line: string): void {
  j.log.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
  if (j.log.length > keptLines) j.log.splice(0, j.log.length - keptLines);
}

function copy(j: RolloutJob): RolloutJob {
  return { ...j, log: [...j.log] };
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const doc: unknown = JSON.parse(line);
    return typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isError(v: unknown): v is { code: string; message: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { code?: unknown }).code === 'string' &&
    typeof (v as { message?: unknown }).message === 'string'
  );
}
