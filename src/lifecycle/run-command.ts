import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from './schema.ts';
import type { CommandResult, LifecycleTarget } from './types.ts';
import { expandVars } from './vars.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
const OUTPUT_LIMIT = 16 * 1024;

/** A command with its variables replaced and its paths made absolute, ready to spawn. */
export interface ExpandedCommand {
  file: string;
  args: string[];
  cwd: string;
  /** uplift's environment with the command's own over it. */
  env: NodeJS.ProcessEnv;
  /** For messages: argv as written after expansion (the environment is never shown). */
  display: string;
}

export async function expandCommand(c: Command, t: LifecycleTarget): Promise<ExpandedCommand> {
  const argv: string[] = [];
  for (const a of c.argv) argv.push(await expandVars(a, t));
  const cwd = resolve(t.install, c.cwd === undefined ? '.' : await expandVars(c.cwd, t));
  const env: NodeJS.ProcessEnv = { ...process.env, ...t.env };
  for (const [k, v] of Object.entries(c.env ?? {})) env[k] = await expandVars(v, t);
  const first = argv[0] as string;
  // A bare name is looked up on PATH; `bin/start` and `./start` are files relative to cwd.
  const file = first.includes('/') ? resolve(cwd, first) : first;
  return { file, args: argv.slice(1), cwd, env, display: argv.join(' ') };
}

/**
 * Runs a lifecycle command (no shell) and captures its output for messages. Resolves when the
 * command exits, not when its output closes: a start script leaves its server running in the
 * background, still holding the inherited pipes. Never rejects for the command's own failure
 * (see CommandResult.code); rejects with UPLIFT_LIFECYCLE_VAR when a variable cannot be expanded.
 * The timeout is the smaller of `opts.timeoutMs` and the command's timeoutSeconds (default 30 s).
 */
export async function runCommand(
  c: Command,
  t: LifecycleTarget,
  opts: { timeoutMs?: number } = {},
): Promise<CommandResult> {
  const x = await expandCommand(c, t);
  const limits = [
    opts.timeoutMs,
    c.timeoutSeconds === undefined ? undefined : c.timeoutSeconds * 1000,
  ];
  const given = limits.filter((v): v is number => v !== undefined);
  const timeoutMs = given.length > 0 ? Math.max(1, Math.min(...given)) : DEFAULT_TIMEOUT_MS;
  return spawnAndWait(x, timeoutMs);
}

function spawnAndWait(x: ExpandedCommand, timeoutMs: number): Promise<CommandResult> {
  return new Promise((done) => {
    const child = spawn(x.file, x.args, {
      cwd: x.cwd,
      env: x.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const take = (b: Buffer) => {
      output += b.toString('utf8');
      if (output.length > 2 * OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let finished = false;
    const finish = (code: number, note?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      let text = output.length > OUTPUT_LIMIT ? `…${output.slice(-OUTPUT_LIMIT)}` : output;
      text = text.trim();
      if (note) text = text === '' ? note : `${text}\n${note}`;
      done({ code, output: text });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code === 'ENOENT' ? 127 : err.code === 'EACCES' ? 126 : 1;
      finish(code, `cannot run ${x.file} in ${x.cwd}: ${err.code ?? err.message}`);
    });
    child.on('exit', (code, signal) => {
      const exit = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
      const note = timedOut
        ? `(killed after ${timeoutMs / 1000} s: it took longer than its timeout)`
        : signal
          ? `(ended by ${signal})`
          : undefined;
      // The rest of its output is usually already in the pipes; a background child may keep them open.
      if (child.stdout.closed && child.stderr.closed) finish(exit, note);
      else {
        const grace = setTimeout(() => finish(exit, note), 100);
        child.on('close', () => {
          clearTimeout(grace);
          finish(exit, note);
        });
      }
    });
  });
}
