import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takePrivateCli } from '../util/apply-skiff.ts';

/**
 * `npm run dashboard` (README, "The dashboard on the sample"), the package.json script as it is,
 * in a private snapshot of the build: it makes the sample and its topology, starts `uplift serve`
 * on 127.0.0.1 and prints a sign-in link once; the link signs in once as an operator, the fleet
 * shows the sample node, and SIGTERM stops the server and revokes the link's token.
 */
let cli: Awaited<ReturnType<typeof takePrivateCli>>;
let child: ChildProcess | undefined;
let out = '';
let err = '';

beforeAll(async () => {
  cli = await takePrivateCli();
});
afterAll(async () => {
  if (child?.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  if (cli) {
    spawnSync(process.execPath, ['dist/cli/main.js', 'sample', '--stop'], { cwd: cli.root });
    await cli.dispose();
  }
});

async function until<T>(what: () => T | undefined, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms; output:\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm run dashboard', () => {
  it('serves the sample, signs in once through the printed link, and stops on SIGTERM', {
    timeout: 240_000,
  }, async () => {
    // The pre-script rebuilds a stale checkout; the snapshot is a build already.
    child = spawn(
      'npm',
      ['run', 'dashboard', '--ignore-scripts', '--', '--listen', '127.0.0.1:0'],
      {
        cwd: cli.root,
        detached: true,
        env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    const exited = new Promise<number | null>((r) => child?.on('close', (code) => r(code)));

    const link = await until(
      () => /(http:\/\/127\.0\.0\.1:\d+)\/sign-in\/[\w-]{43}/.exec(out) ?? undefined,
      200_000,
    );
    const base = link[1] as string;
    const signIn = await fetch(link[0], { redirect: 'manual' });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const again = await fetch(link[0], { redirect: 'manual' });
    const session = (await (
      await fetch(`${base}/api/session`, { headers: { cookie } })
    ).json()) as { name: string; role: string };
    const fleet = (await (
      await fetch(`${base}/api/fleet?live=true`, { headers: { cookie } })
    ).json()) as {
      environments: {
        name: string;
        deployments: {
          nodes: { name: string; version: string | null; running: boolean | null }[];
        }[];
      }[];
    };
    const pid = Number(/pid (\d+)/.exec(out)?.[1]);

    // What a service manager (or kill) sends; Ctrl-C sends SIGINT to the whole group, and npm then
    // ends by that signal itself.
    process.kill(pid, 'SIGTERM');
    const code = await exited;
    const tokens = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'serve', 'token', 'list', '--json'],
      {
        cwd: cli.root,
        encoding: 'utf8',
      },
    );

    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/');
    expect(cookie).toMatch(/^uplift_session=[\w-]{43}$/);
    expect(again.status).toBe(401);
    expect(session).toMatchObject({ role: 'operator' });
    expect(fleet.environments).toHaveLength(1);
    expect(fleet.environments[0]?.deployments[0]?.nodes).toEqual([
      expect.objectContaining({ name: 'sample', running: true }),
    ]);
    expect(fleet.environments[0]?.deployments[0]?.nodes[0]?.version).toBe(
      readFileSync(join(cli.root, '.uplift/sample/install/version'), 'utf8').trim(),
    );
    // The link is printed once, and the server's log never repeats it.
    expect(out.split(link[0]).length - 1).toBe(1);
    expect(err).not.toContain(link[0].split('/sign-in/')[1]);
    expect(out).toContain('Stopped serving (SIGTERM)');
    expect(code).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    const listed = JSON.parse(tokens.stdout) as { tokens: { name: string; revokedAt?: string }[] };
    expect(listed.tokens.find((t) => t.name === session.name)?.revokedAt).toBeTruthy();
  });
});
