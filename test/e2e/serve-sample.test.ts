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
  if (child?.pid && child.exitCode === null && child.signalCode === null)
    process.kill(-child.pid, 'SIGKILL');
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

/** `npm run dashboard` as a user types it (in its own process group, as a terminal runs it). */
async function dashboard() {
  out = '';
  err = '';
  // The pre-script rebuilds a stale checkout; the snapshot is a build already.
  const c = spawn(
    'npm',
    ['run', 'dashboard', '--ignore-scripts', '--', '--listen', '127.0.0.1:0'],
    {
      cwd: cli.root,
      detached: true,
      env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child = c;
  c.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  c.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
    c.on('close', (code, signal) => r({ code, signal })),
  );
  const link = await until(
    () => /(http:\/\/127\.0\.0\.1:\d+)\/sign-in\/[\w-]{43}/.exec(out) ?? undefined,
    200_000,
  );
  const pid = Number(/pid (\d+)/.exec(out)?.[1]);
  return { group: c.pid as number, link: link[0], base: link[1] as string, pid, exited };
}

const tokenList = () =>
  (
    JSON.parse(
      spawnSync(process.execPath, ['dist/cli/main.js', 'serve', 'token', 'list', '--json'], {
        cwd: cli.root,
        encoding: 'utf8',
      }).stdout,
    ) as { tokens: { name: string; revokedAt?: string }[] }
  ).tokens;

describe('npm run dashboard', () => {
  let first: Awaited<ReturnType<typeof dashboard>> | undefined;
  let firstName = '';

  it('serves the sample, signs in once through the printed link, and stops on SIGTERM', {
    timeout: 240_000,
  }, async () => {
    first = await dashboard();
    const { link, base, pid } = first;
    const signIn = await fetch(link, { redirect: 'manual' });
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const again = await fetch(link, { redirect: 'manual' });
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
    firstName = session.name;

    // What a service manager (or kill) sends.
    process.kill(pid, 'SIGTERM');
    const { code } = await first.exited;

    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/');
    expect(cookie).toMatch(/^uplift_session=[\w-]{43}$/);
    expect(again.status).toBe(401);
    expect(session).toMatchObject({ role: 'operator' });
    expect(fleet.environments.map((e) => e.name)).toEqual(['sample']);
    expect(fleet.environments[0]?.deployments[0]?.nodes).toEqual([
      expect.objectContaining({ name: 'sample', running: true }),
    ]);
    expect(fleet.environments[0]?.deployments[0]?.nodes[0]?.version).toBe(
      readFileSync(join(cli.root, '.uplift/sample/install/version'), 'utf8').trim(),
    );
    // The link is printed once, and the server's log never repeats it.
    expect(out.split(link).length - 1).toBe(1);
    expect(err).not.toContain(link.split('/sign-in/')[1]);
    expect(out).toContain('Stopped serving (SIGTERM)');
    expect(code).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(tokenList().find((t) => t.name === session.name)?.revokedAt).toBeTruthy();
  });

  it('runs again on the same sample with a new token, and stops on Ctrl-C', {
    timeout: 120_000,
  }, async () => {
    const second = await dashboard();
    const signIn = await fetch(second.link, { redirect: 'manual' });

    // Ctrl-C: the terminal sends SIGINT to the whole foreground group (npm itself ends by it).
    process.kill(-second.group, 'SIGINT');
    await second.exited;
    await until(() => (out.includes('Stopped serving') ? true : undefined), 10_000);

    expect(signIn.status).toBe(303);
    expect(second.link).not.toBe(first?.link);
    expect(out).toContain('topology      ');
    expect(out).toMatch(/\(kept: it\s+exists\)/);
    expect(out).toContain('Stopped serving (SIGINT)');
    expect(() => process.kill(second.pid, 0)).toThrow();
    const tokens = tokenList();
    expect(tokens).toHaveLength(2);
    expect(tokens.every((t) => t.revokedAt)).toBe(true);
    expect(tokens.map((t) => t.name)).toContain(firstName);
  });
});
