import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentCli, stateDir, type UpliftRun } from './apply-skiff.ts';
import { repoRoot } from './run-cli.ts';

/**
 * Helpers for the tests that kill uplift from outside at a moment of their choosing (a journal
 * record, a random time) rather than at a crash point: the CLI as a child to kill, a slow client
 * upload that is in flight during a stop, and what a clean run leaves in the state folder.
 */

export interface Spawned {
  child: ChildProcess;
  done: Promise<UpliftRun>;
}

/** The CLI (this file's private build, `takePrivateCli`) as a child process the test can kill. */
export function spawnUplift(args: string[]): Spawned {
  const { UPLIFT_TEST_CRASH_AT: _c, UPLIFT_TEST_NOW: _n, ...base } = process.env;
  const child = spawn(process.execPath, [currentCli(), ...args], {
    cwd: repoRoot,
    env: { ...base, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<UpliftRun>((res, rej) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, signal });
    });
  });
  return { child, done };
}

/** Waits until the installation's journal holds a record matching `match` (or `ms` pass). */
export async function untilJournal(
  install: string,
  match: (r: { hop: number; step: string; state: string }) => boolean,
  ms = 120_000,
): Promise<boolean> {
  const file = join(stateDir(install), 'journal');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    for (const line of text.split('\n'))
      try {
        if (line && match(JSON.parse(line))) return true;
      } catch {
        // A line being written.
      }
    await sleep(15);
  }
  return false;
}

/** One of the sample's accounts (products/skiff/src/sample.ts: fixed demo passwords). */
export const account = { name: 'acme-payroll', password: 'demo-acme-payroll' };

/**
 * A client upload of `bytes` spread over about `seconds`, to the server the installation runs
 * now: in flight when a stop begins, it holds the stop (skiff's stop waits for transfers). Resolves
 * the answer's status, or 0 when the connection failed.
 */
export async function slowUpload(
  install: string,
  name: string,
  bytes: number,
  seconds: number,
): Promise<number> {
  const { skiffEndpoint } = (await import(
    join(repoRoot, 'profiles/skiff/scripts/skiff-url.mjs')
  )) as {
    skiffEndpoint(i: string): { url?: string; problem?: string };
  };
  const ep = skiffEndpoint(install);
  if (!ep.url) throw new Error(ep.problem);
  const http = await import('node:http');
  const auth = Buffer.from(`${account.name}:${account.password}`).toString('base64');
  return new Promise((res) => {
    const req = http.request(`${ep.url}/files/${name}`, {
      method: 'PUT',
      headers: { authorization: `Basic ${auth}`, 'content-length': String(bytes) },
    });
    req.on('response', (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode ?? 0));
    });
    req.on('error', () => res(0));
    const parts = Math.max(1, Math.round(seconds * 10));
    const chunk = Math.ceil(bytes / parts);
    let sent = 0;
    const tick = () => {
      const n = Math.min(chunk, bytes - sent);
      if (n <= 0) return req.end();
      req.write(Buffer.alloc(n, 0x5a));
      sent += n;
      setTimeout(tick, 100);
    };
    tick();
  });
}

/**
 * What is in the state folder that a clean run never leaves: a lock or its temp file, a journal,
 * staging, a backup's temp file or database copy, a backup without its checksum. Relative paths.
 */
export function debrisIn(install: string): string[] {
  const dir = stateDir(install);
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      const rel = relative(dir, abs);
      if (/^(lock|journal)/.test(rel) || rel.startsWith('stage-') || rel.startsWith('dry-run-'))
        out.push(rel);
      else if (rel.startsWith('backups/')) {
        if (e.name.startsWith('.') || e.isDirectory()) out.push(rel);
        else if (e.name.endsWith('.tar.gz') && !existsSync(`${abs}.sha256`)) out.push(rel);
      } else if (rel === 'backups' && e.isDirectory()) walk(abs);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}
