import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { codes, ExitCode, type UpliftCode, UpliftError } from '../../errors/index.ts';
import { serveRepository } from '../../repo/index.ts';
import { stopSignal, writeAtomically } from '../../util/index.ts';
import type { CliIo, CommandResult } from '../types.ts';

export interface RepoServeOptions {
  host: string;
  port?: string;
  background?: boolean;
  pidFile?: string;
  json?: boolean;
}

interface Listening {
  url: string;
  host: string;
  port: number;
  pid: number;
}

function portOf(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535)
    throw new UpliftError('UPLIFT_USAGE', `--port ${JSON.stringify(value)} is not a port number`, {
      hint: 'Give a port from 1 to 65535, or leave out --port to take a free one.',
    });
  return n;
}

/**
 * `uplift repo serve DIR`: serves the repository until SIGINT or SIGTERM. It prints where it
 * listens as soon as it does (a server's result would come too late); the result is what it
 * served when it stopped. With --background it starts itself as a detached process, waits until
 * that one listens, prints its URL and returns.
 */
export async function serve(dir: string, o: RepoServeOptions, io: CliIo): Promise<CommandResult> {
  const port = portOf(o.port);
  if (o.background) return startInBackground(dir, o, port);
  const server = await serveRepository({ dir, host: o.host, port });
  const listening: Listening = {
    url: server.url,
    host: server.host,
    port: server.port,
    pid: process.pid,
  };
  if (o.pidFile !== undefined) await writeAtomically(o.pidFile, `${process.pid}\n`);
  io.stdout(
    o.json
      ? `${JSON.stringify(listening)}\n`
      : `Serving ${dir} at ${server.url} (read-only, pid ${process.pid}); Ctrl-C stops it.\n`,
  );
  const signal = await stopSignal();
  await server.close();
  if (o.pidFile !== undefined) await removePidFile(o.pidFile);
  return {
    data: { ...listening, stopped: signal },
    text: `Stopped serving ${dir} (${signal}).\n`,
    exitCode: ExitCode.ok,
  };
}

/** Removes the pid file if it still names this process (another server may have taken it over). */
async function removePidFile(file: string): Promise<void> {
  const text = await readFile(file, 'utf8').catch(() => '');
  if (text.trim() === String(process.pid)) await rm(file, { force: true });
}

/**
 * Runs this same uplift again in the foreground as a detached process (no terminal, its output
 * going nowhere once it listens) and answers with what it printed when it began to listen. Its
 * errors (a port in use, not a repository) come back as they are.
 */
async function startInBackground(
  dir: string,
  o: RepoServeOptions,
  port: number,
): Promise<CommandResult> {
  const script = process.argv[1];
  if (script === undefined)
    throw new UpliftError('UPLIFT_USAGE', 'cannot tell how to start uplift in the background', {
      hint: 'Run it in the foreground, with & after it in a shell.',
    });
  const args = [script, 'repo', 'serve', dir, '--host', o.host, '--port', String(port), '--json'];
  if (o.pidFile !== undefined) args.push('--pid-file', o.pidFile);
  const child = spawn(process.execPath, [...process.execArgv, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      // The listening line is one line of JSON; an error is pretty-printed, read whole at close.
      const nl = out.indexOf('\n');
      if (nl > 0 && out.startsWith('{"')) resolve(out.slice(0, nl));
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim() === '' ? `{"stderr":${JSON.stringify(err)}}` : out));
  });
  child.stdout.destroy();
  child.stderr.destroy();
  child.unref();
  let parsed: Partial<Listening> & {
    error?: { code: string; message: string; hint?: string };
    stderr?: string;
  };
  try {
    parsed = JSON.parse(first);
  } catch {
    parsed = { stderr: first };
  }
  if (parsed.url === undefined || parsed.pid === undefined) {
    const e = parsed.error;
    const code = e !== undefined && Object.hasOwn(codes, e.code) ? (e.code as UpliftCode) : null;
    throw new UpliftError(
      code ?? 'UPLIFT_USAGE',
      e?.message ?? `the server did not start: ${parsed.stderr?.trim() ?? ''}`,
      { ...(e?.hint === undefined ? {} : { hint: e.hint }) },
    );
  }
  const listening = parsed as Listening;
  return {
    data: listening,
    // Only the URL, so a script can take it: URL=$(uplift repo serve DIR --background)
    text: `${listening.url}\n`,
    exitCode: ExitCode.ok,
  };
}
