import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBalancer } from './index.ts';

let dir: string;

/** A small shell script in the scratch folder; returns its path. */
async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

const placeholder = (name: string) => `$\{${name}}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-cmd-balancer-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('command balancer', () => {
  it('runs drain and enable with the server and its side expanded, each word one argument (no shell)', async () => {
    const log = join(dir, 'calls.log');
    const record = await script('record', `printf '%s|' "$@" >> "${log}"; echo >> "${log}"`);
    const lb = openBalancer(
      {
        kind: 'command',
        drain: [
          record,
          'drain',
          placeholder('server'),
          `side=${placeholder('side')}`,
          'a b; rm -rf /',
        ],
        enable: [record, 'enable', placeholder('server')],
        drainTimeoutSeconds: 5,
      },
      { sideOf: (s) => (s === 'node2' ? 'b' : 'a') },
    );

    await lb.drain('node2');
    const drained = await lb.state('node2');
    await lb.enable('node2');
    const enabled = await lb.state('node2');

    expect((await readFile(log, 'utf8')).split('\n')).toEqual([
      'drain|node2|side=b|a b; rm -rf /|',
      'enable|node2|',
      '',
    ]);
    expect(drained).toEqual({ server: 'node2', admin: 'drain', sessions: 0 });
    expect(enabled.admin).toBe('ready');
  });

  it('waitDrained polls the sessions command until it prints 0', async () => {
    const count = join(dir, 'count');
    await writeFile(count, '3\n');
    // Each call prints the count and lowers it by one: 3, 2, 1, 0.
    const sessions = await script(
      'sessions',
      `n=$(cat "${count}"); echo "$n"; [ "$n" -gt 0 ] && echo $((n - 1)) > "${count}"; exit 0`,
    );
    const lb = openBalancer(
      {
        kind: 'command',
        drain: ['true'],
        enable: ['true'],
        sessions: [sessions, placeholder('server')],
        drainTimeoutSeconds: 5,
      },
      { pollMs: 20 },
    );

    await lb.waitDrained('node1', 5000);

    expect(await readFile(count, 'utf8')).toBe('0\n');
  });

  describe('should error if', () => {
    it('the drain command fails: UPLIFT_BALANCER_COMMAND_FAILED with its exit code and last line', async () => {
      const fail = await script('fail', 'echo "pool web: no member $1" >&2; exit 3');
      const lb = openBalancer({
        kind: 'command',
        drain: [fail, placeholder('server')],
        enable: ['true'],
        drainTimeoutSeconds: 5,
      });

      await expect(lb.drain('node9')).rejects.toMatchObject({
        code: 'UPLIFT_BALANCER_COMMAND_FAILED',
        message: expect.stringMatching(/exit 3: pool web: no member node9/),
      });
      expect((await lb.state('node9')).admin).toBe('ready');
    });

    it('the command does not exist', async () => {
      const lb = openBalancer({
        kind: 'command',
        drain: [join(dir, 'missing')],
        enable: ['true'],
        drainTimeoutSeconds: 5,
      });

      await expect(lb.drain('n')).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_COMMAND_FAILED' });
    });

    it('the sessions command prints something other than a number', async () => {
      const lb = openBalancer({
        kind: 'command',
        drain: ['true'],
        enable: ['true'],
        sessions: ['echo', 'many'],
        drainTimeoutSeconds: 5,
      });

      await expect(lb.state('n')).rejects.toMatchObject({ code: 'UPLIFT_BALANCER_COMMAND_FAILED' });
    });

    it('sessions stay open past the timeout: UPLIFT_BALANCER_DRAIN_TIMEOUT', async () => {
      const lb = openBalancer(
        {
          kind: 'command',
          drain: ['true'],
          enable: ['true'],
          sessions: ['echo', '2'],
          drainTimeoutSeconds: 5,
        },
        { pollMs: 20 },
      );

      await expect(lb.waitDrained('n', 200)).rejects.toMatchObject({
        code: 'UPLIFT_BALANCER_DRAIN_TIMEOUT',
      });
    });
  });
});
