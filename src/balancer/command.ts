import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpliftError } from '../errors/index.ts';
import type { BalancerSettings } from '../topology/types.ts';
import type { Balancer, ServerState } from './types.ts';

type CommandSettings = Extract<BalancerSettings, { kind: 'command' }>;

export interface CommandOptions {
  /** The side (`a`/`b`) of a server, for `${side}`; empty when not known. */
  sideOf?: (server: string) => string | undefined;
  /** How often the sessions command runs while waiting (default 500 ms). */
  pollMs?: number;
  /** How long one command may run (default 60 s). */
  commandTimeoutMs?: number;
  /** The folder the commands run in (default the current one). */
  cwd?: string;
}

/** `${server}` and `${side}` replaced in each word; no shell sees the words. */
function expand(argv: readonly string[], server: string, side: string): string[] {
  const server$ = '$' + '{server}';
  const side$ = '$' + '{side}';
  return argv.map((w) => w.replaceAll(server$, server).replaceAll(side$, side));
}

function run(
  argv: string[],
  o: CommandOptions,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const [file, ...args] = argv;
    if (!file) {
      resolve({ code: null, stdout: '', stderr: '', error: new Error('the command is empty') });
      return;
    }
    const child = spawn(file, args, {
      cwd: o.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: o.commandTimeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', (error) => resolve({ code: null, stdout, stderr, error }));
    child.on('close', (code, signal) =>
      resolve({
        code,
        stdout,
        stderr,
        error: signal ? new Error(`killed by ${signal} (timeout?)`) : undefined,
      }),
    );
  });
}

/**
 * Any other load balancer, through the operator's own commands (an F5 or cloud CLI, a script):
 * `drain`, `enable` and optionally `sessions` argv from the topology, run without a shell with
 * `${server}` and `${side}` expanded. Exit 0 means done; `sessions` prints the number of sessions
 * still open on the server. Without a `sessions` command uplift cannot see open transfers, so
 * `waitDrained` returns at once: the drain command itself must then return only when the server
 * is drained.
 */
export function openCommandBalancer(settings: CommandSettings, o: CommandOptions = {}): Balancer {
  const pollMs = o.pollMs ?? 500;
  /** What uplift last asked of each server; a command balancer cannot be asked. */
  const admin = new Map<string, ServerState['admin']>();

  const runStep = async (
    what: 'drain' | 'enable' | 'sessions',
    argv: readonly string[],
    server: string,
  ) => {
    const words = expand(argv, server, o.sideOf?.(server) ?? '');
    const r = await run(words, o);
    if (r.code === 0 && !r.error) return r.stdout;
    const said = r.stderr.trim().split('\n').at(-1)?.slice(0, 300) ?? '';
    throw new UpliftError(
      'UPLIFT_BALANCER_COMMAND_FAILED',
      `the balancer's ${what} command for ${server} (${words[0] ?? ''}) failed: ${r.error?.message ?? `exit ${r.code}`}${said ? `: ${said}` : ''}`,
      {
        hint: `run it by hand (${words.join(' ')}) and fix it, or fix balancer.${what} in the topology`,
      },
    );
  };

  const sessions = async (server: string): Promise<number> => {
    if (!settings.sessions) return 0;
    const out = (await runStep('sessions', settings.sessions, server)).trim();
    if (!/^\d+$/.test(out))
      throw new UpliftError(
        'UPLIFT_BALANCER_COMMAND_FAILED',
        `the balancer's sessions command for ${server} printed "${out.slice(0, 80)}", not a number of sessions`,
        { hint: `make balancer.sessions print one whole number (the sessions open on ${server})` },
      );
    return Number(out);
  };

  return {
    label: `command balancer (${settings.drain[0] ?? ''})`,
    async drain(server) {
      await runStep('drain', settings.drain, server);
      admin.set(server, 'drain');
    },
    async enable(server) {
      await runStep('enable', settings.enable, server);
      admin.set(server, 'ready');
    },
    async state(server) {
      return { server, admin: admin.get(server) ?? 'ready', sessions: await sessions(server) };
    },
    async waitDrained(server, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const open = await sessions(server);
        if (open === 0) return;
        if (Date.now() >= deadline)
          throw new UpliftError(
            'UPLIFT_BALANCER_DRAIN_TIMEOUT',
            `${server} still serves ${open} session(s) after ${Math.round(timeoutMs / 1000)} s of draining`,
            {
              hint: 'raise balancer.drainTimeoutSeconds, or end the long transfers; the server stays drained',
            },
          );
        await sleep(pollMs);
      }
    },
    close: async () => {},
  };
}
