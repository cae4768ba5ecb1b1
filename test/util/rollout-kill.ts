import { type ChildProcess, spawn } from 'node:child_process';
import { currentCli, type UpliftRun } from './apply-skiff.ts';
import { type FixtureNode, isRunning, nodeVersion, probe } from './cluster-fixture.ts';

/**
 * Helpers for the rollout crash tests (issue 13, reliability-tests.md C.4 and C.10): the rollout
 * controller as a child to SIGKILL at an event line or a moment, and a watcher that samples every
 * node of a deployment for mixed running versions until told to stop (the seeded random source is
 * bench/random.ts, the processes below a pid process-tree.ts).
 */

export interface Controller {
  child: ChildProcess;
  /** The `--json` lines read so far (events, then the result). */
  lines: string[];
  /** Resolves when `n` lines were read (true), or false when the controller ended first. */
  lineCount(n: number): Promise<boolean>;
  /** Resolves at the first line `match` accepts (true), or false when the controller ended first. */
  line(match: (e: Record<string, unknown>) => boolean): Promise<boolean>;
  done: Promise<UpliftRun>;
}

/**
 * `node <this file's CLI> ...args` in `cwd` (the rollout's pending audit file is relative to it),
 * with `env` added (and UPLIFT_DATABASE_URL removed unless `env` sets it), its `--json` lines
 * collected as they come. `detached` puts it in a process group of its own.
 */
export function startController(
  args: string[],
  o: { cwd: string; env?: Record<string, string>; detached?: boolean; timeoutMs?: number },
): Controller {
  const { UPLIFT_DATABASE_URL: _u, UPLIFT_TEST_CRASH_AT: _c, ...base } = process.env;
  const child = spawn(process.execPath, [currentCli(), ...args], {
    cwd: o.cwd,
    env: { ...base, NO_COLOR: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: o.detached === true,
  });
  const lines: string[] = [];
  const waiters: { test: () => boolean; done: (v: boolean) => void }[] = [];
  let ended = false;
  const wake = () => {
    for (const w of [...waiters])
      if (w.test() || ended) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done(w.test());
      }
  };
  let stdout = '';
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    partial += s;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push(p);
    wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<UpliftRun>((res, rej) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 300_000);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ended = true;
      if (partial.trim() !== '') lines.push(partial);
      wake();
      res({ code, stdout, stderr, signal });
    });
  });
  const wait = (test: () => boolean) =>
    new Promise<boolean>((res) => {
      if (test()) return res(true);
      if (ended) return res(false);
      waiters.push({ test, done: res });
    });
  const parsed = (l: string) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  return {
    child,
    lines,
    lineCount: (n) => wait(() => lines.length >= n),
    line: (match) => wait(() => lines.some((l) => match(parsed(l)))),
    done,
  };
}

/** What one sample of a deployment's nodes found running. */
export interface VersionSample {
  at: number;
  /** node name → version of its running server (its /health, else its version file). */
  running: Record<string, string>;
}

export interface VersionWatch {
  /** Samples in which two running nodes had different versions. */
  readonly violations: VersionSample[];
  readonly samples: number;
  stop(): Promise<void>;
}

/**
 * Samples `nodes` every `everyMs` until stopped: for each node whose pid files name a live process,
 * the version its /health answers (else, while it starts, its installed version). A sample with
 * two different versions running is a violation (a standard cluster never runs two versions).
 */
export function watchVersions(nodes: FixtureNode[], everyMs = 100): VersionWatch {
  const violations: VersionSample[] = [];
  let samples = 0;
  let stopped = false;
  const once = async () => {
    const running: Record<string, string> = {};
    await Promise.all(
      nodes.map(async (n) => {
        if (!isRunning(n)) return;
        const h = await probe(n, 1_000);
        let v = h?.version;
        if (v === undefined && isRunning(n))
          try {
            v = nodeVersion(n);
          } catch {
            v = undefined;
          }
        if (v !== undefined) running[n.name] = v;
      }),
    );
    samples++;
    if (new Set(Object.values(running)).size > 1) violations.push({ at: Date.now(), running });
  };
  const loop = (async () => {
    while (!stopped) {
      await once();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    violations,
    get samples() {
      return samples;
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
