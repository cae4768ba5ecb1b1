import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { UpliftError } from '../errors/index.ts';
import { fsyncFile } from '../util/index.ts';
import { lineCollector } from './lines.ts';
import { hashLocal, type PartTarget, putThrough } from './put-file.ts';
import type { ExecOptions, ExecResult, NodeTransport, RemoteStat } from './types.ts';

/** Seconds between SIGTERM and SIGKILL when a command is stopped. */
export const killGraceMs = 2000;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Runs argv without a shell in its own process group, so that a timeout or an abort stops the
 * command and everything it started. A command that cannot start reads as the shell's 127.
 */
function execLocal(argv: string[], o: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('exec needs a command');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: o.cwd,
      env: o.env === undefined ? process.env : { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const out = lineCollector(o.onStdoutLine);
    const err = lineCollector();
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let stopped: unknown;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: unknown) => {
      if (stopped !== undefined || child.pid === undefined) return;
      stopped = why;
      const group = -child.pid;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(group, sig);
        } catch {
          // The group has already gone.
        }
      };
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), killGraceMs);
    };
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              stop(
                new UpliftError(
                  'UPLIFT_TRANSPORT_TIMEOUT',
                  `local: ${argv.join(' ')} ran longer than ${o.timeoutMs} ms and was stopped`,
                  { hint: 'Give the step more time, or find out why the command hangs.' },
                ),
              ),
            o.timeoutMs,
          );
    const onAbort = () => stop(o.signal?.reason ?? new Error('aborted'));
    if (o.signal?.aborted) onAbort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e.code === 'ENOENT' || e.code === 'EACCES')
        resolve({
          code: e.code === 'ENOENT' ? 127 : 126,
          stdout: '',
          stderr: `${cmd}: ${e.code === 'ENOENT' ? 'command not found' : 'permission denied'}\n`,
        });
      else reject(e);
    });
    child.on('close', (code, signal) => {
      done();
      if (stopped !== undefined) return reject(stopped);
      resolve({
        code,
        ...(signal ? { signal } : {}),
        stdout: out.end(),
        stderr: err.end(),
      });
    });
  });
}

const localTarget: PartTarget = {
  size: async (path) => {
    try {
      return (await stat(path)).size;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  },
  sha256: (path, _size) => hashLocal(path),
  async writeFrom(local, path, start, onBytes) {
    const out = createWriteStream(path, {
      flags: start === 0 ? 'w' : 'r+',
      start,
      mode: 0o644,
    });
    const input = createReadStream(local, { start });
    input.on('data', (b) => onBytes((b as Buffer).length));
    await pipeline(input, out);
    await fsyncFile(path);
  },
  remove: (path) => rm(path, { force: true }),
  rename: (from, to) => rename(from, to),
  chmod: (path, mode) => chmod(path, mode),
};

/** The node uplift itself runs on: argv without a shell, files through node:fs. */
export function localTransport(): NodeTransport {
  return {
    label: 'local',
    exec: execLocal,
    putFile: (local, remote, o) => putThrough(localTarget, 'local', local, remote, o),
    async readFile(remote) {
      try {
        return await readFile(remote);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async stat(remote): Promise<RemoteStat | undefined> {
      try {
        const s = await stat(remote);
        return { size: s.size, mode: s.mode & 0o7777, isDirectory: s.isDirectory() };
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
    },
    async mkdirp(remote, mode) {
      await mkdir(remote, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    },
    rename: (from, to) => rename(from, to),
    remove: (remote) => rm(remote, { recursive: true, force: true }),
    async close() {},
  };
}
