import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, runCliProcess } from '../util/run-cli.ts';

/**
 * `uplift serve` and `uplift serve token` through the built CLI: a token printed once and never
 * again, a server that prints its URL, lets the token sign in, logs no secret and stops on SIGTERM.
 */
const dir = mkdtempSync(join(tmpdir(), 'uplift-serve-cli-'));
const state = join(dir, 'state.db');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('uplift serve', () => {
  it('creates, lists and revokes tokens; serves until SIGTERM; logs no secret', async () => {
    const created = runCliProcess([
      'serve',
      'token',
      'create',
      'ada',
      '--role',
      'operator',
      '--state',
      state,
      '--json',
    ]);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const list = runCliProcess(['serve', 'token', 'list', '--state', state, '--json']);

    expect(created.code).toBe(0);
    expect(token).toMatch(/^[\w-]{43}$/);
    expect(list.stdout).not.toContain(token);
    expect(JSON.parse(list.stdout)).toMatchObject({ tokens: [{ name: 'ada', role: 'operator' }] });

    const child = spawn(
      process.execPath,
      [cliPath, 'serve', '--listen', '127.0.0.1:0', '--state', state, '--json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        stdout += b;
        const line = stdout.split('\n')[0] as string;
        if (stdout.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
      });
      child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
    const signIn = (t: string) =>
      fetch(`${url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: t }),
      });
    const good = await signIn(token);
    const bad = await signIn('wrong-token-value');
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(good.status).toBe(200);
    expect(bad.status).toBe(401);
    expect(await exit).toBe(0);
    expect(JSON.parse(stdout.slice(stdout.indexOf('\n') + 1))).toMatchObject({
      stopped: 'SIGTERM',
    });
    expect(stderr).toContain('refused a sign-in');
    expect(stderr + stdout).not.toContain(token);
    expect(stderr + stdout).not.toContain('wrong-token-value');

    const revoked = runCliProcess(['serve', 'token', 'revoke', 'ada', '--state', state]);
    const again = runCliProcess(['serve', 'token', 'revoke', 'ada', '--state', state, '--json']);

    expect(revoked.code).toBe(0);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({
      error: { code: 'UPLIFT_SERVE_TOKEN_UNKNOWN' },
    });
  });

  it('refuses a non-loopback address without TLS, and a taken token name, with exit 2', () => {
    const open = runCliProcess(['serve', '--listen', '0.0.0.0:0', '--state', state, '--json']);
    const taken = runCliProcess([
      'serve',
      'token',
      'create',
      'ada',
      '--role',
      'viewer',
      '--state',
      state,
      '--json',
    ]);

    expect(open.code).toBe(2);
    expect(JSON.parse(open.stdout)).toMatchObject({ error: { code: 'UPLIFT_SERVE_TLS_REQUIRED' } });
    expect(taken.code).toBe(2);
    expect(JSON.parse(taken.stdout)).toMatchObject({
      error: { code: 'UPLIFT_SERVE_TOKEN_EXISTS' },
    });
  });
});
