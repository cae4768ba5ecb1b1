import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology } from '../topology/index.ts';
import { connect, passedEnv } from './index.ts';

let dir: string;
const secret = 's3cr3t-value-that-must-not-leak';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-connect-'));
  // A stand-in for uplift's bundle on the node: prints the variables it was given.
  await mkdir(join(dir, 'bundle'));
  await writeFile(
    join(dir, 'bundle/cli.cjs'),
    'console.log(JSON.stringify({ args: process.argv.slice(2), user: process.env.SMOKE_USER ?? null, password: process.env.SMOKE_PASSWORD ?? null }));\n',
  );
  await mkdir(join(dir, 'n1'));
  await writeFile(
    join(dir, 'uplift.yaml'),
    dedent`
      topology: 1
      environments:
        - name: test
          deployments:
            - name: d
              type: standalone
              profile: skiff
              passEnv: [SMOKE_USER, SMOKE_PASSWORD]
              nodes:
                - { name: n1, at: ./n1, nodeRuntime: ${JSON.stringify(process.execPath)} }
    `,
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  delete process.env.SMOKE_USER;
  delete process.env.SMOKE_PASSWORD;
});

const deployment = async () => {
  const t = await loadTopology(join(dir, 'uplift.yaml'));
  const env = t.environments[0];
  if (env?.deployments[0] === undefined) throw new Error('no deployment');
  return { env, d: env.deployments[0] };
};

describe('passEnv', () => {
  it('reads the named variables of the controller', async () => {
    process.env.SMOKE_USER = 'ops';
    process.env.SMOKE_PASSWORD = secret;
    const { d } = await deployment();

    expect(passedEnv(d)).toEqual({ SMOKE_USER: 'ops', SMOKE_PASSWORD: secret });
    expect(passedEnv({ ...d, passEnv: [] })).toBeUndefined();
  });

  it('refuses a variable the controller does not set, naming it and no value', async () => {
    process.env.SMOKE_PASSWORD = secret;
    const { d } = await deployment();

    const err = (() => {
      try {
        passedEnv(d);
      } catch (e) {
        return e as { code: string; exitCode: number; message: string; hint: string };
      }
    })();

    expect(err).toMatchObject({
      code: 'UPLIFT_ROLLOUT_PASS_ENV_UNSET',
      exitCode: 2,
      unchanged: true,
    });
    expect(err?.message).toMatch(/passes SMOKE_USER to its nodes/);
    expect(JSON.stringify(err) + String(err?.message) + String(err?.hint)).not.toContain(secret);
  });

  it('gives the values, read when the node is reached, to every uplift command on it, and keeps them out of the agent’s label', async () => {
    process.env.SMOKE_USER = 'ops';
    process.env.SMOKE_PASSWORD = secret;
    const { env } = await deployment();
    const conn = connect(env, { bundle: join(dir, 'bundle/cli.cjs') });
    try {
      const agent = await conn.agentFor('d', 'n1');
      // Gone from the controller's own environment now: what the node gets was passed explicitly.
      delete process.env.SMOKE_USER;
      delete process.env.SMOKE_PASSWORD;

      const r = await agent.run(['status', '--json']);
      const plan = await (await conn.nodeAgentFor('d', 'n1')).run(['plan', '--json']);

      expect(r.json).toEqual({ args: ['status', '--json'], user: 'ops', password: secret });
      expect(plan.json).toMatchObject({ password: secret });
      expect(agent.label).not.toContain(secret);
    } finally {
      await conn.close();
    }
  });
});
