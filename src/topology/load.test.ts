import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology } from './index.ts';
import { maxInputBytes } from './load.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-topology-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
/** Writes the text as a topology file of its own in the temp folder and loads it. */
async function load(text: string) {
  const file = join(dir, `t${n++}.yaml`);
  await writeFile(file, text);
  return { file, loaded: loadTopology(file) };
}

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function posOf(text: string, needle: string, nth = 1): { line: number; col: number } {
  let i = -1;
  for (let k = 0; k < nth; k++) {
    i = text.indexOf(needle, i + 1);
    if (i < 0) throw new Error(`"${needle}" #${nth} is not in the text`);
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: (before.at(-1) as string).length + 1 };
}

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEiVS9jAZO+npZqvG2kcTMjOLYXcQvdYrZJZbzc92KX6';

/** One environment `test` with one deployment of `body` (indented as a deployment's fields). */
const one = (body: string) =>
  `topology: 1\nenvironments:\n  - name: test\n    deployments:\n      - name: d\n${body
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n')}\n`;

describe('loadTopology: a valid file of each deployment type', () => {
  it('standalone: one local node, defaults filled in, paths from the file folder', async () => {
    const { file, loaded } = await load(
      one(dedent`
        type: standalone
        profile: ./profiles/demo
        nodes:
          - { name: n1, at: ./installs/n1 }
      `),
    );

    const t = await loaded;

    expect(t.file).toBe(file);
    expect(t.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(t.environments).toEqual([
      {
        name: 'test',
        at: `${file}:3:5`,
        deployments: [
          {
            name: 'd',
            type: 'standalone',
            profile: join(dir, 'profiles/demo'),
            to: 'latest',
            concurrency: 1,
            nodeTimeoutSeconds: 3600,
            at: `${file}:5:9`,
            nodes: [
              {
                name: 'n1',
                address: { kind: 'local', path: join(dir, 'installs/n1') },
                nodeRuntime: 'node',
              },
            ],
          },
        ],
      },
    ]);
  });

  it('standard-cluster: ssh nodes with a pinned key, a known_hosts file, ports, afterStart, passEnv', async () => {
    const { loaded } = await load(
      one(dedent`
        type: standard-cluster
        profile: skiff
        to: "5.5"
        afterStart: [/opt/skiff/bin/sync, --all]
        passEnv: [SYNC_TOKEN, SYNC_TOKEN]
        nodes:
          - { name: a, at: "ssh://admin@10.0.0.1/opt/skiff/", hostKey: "${key} root@a" }
          - { name: b, at: "ssh://admin@[::1]:2222/opt/skiff", knownHosts: ~/kh, identity: ./id }
      `),
    );

    const d = (await loaded).environments[0]?.deployments[0];

    expect(d?.afterStart).toEqual(['/opt/skiff/bin/sync', '--all']);
    expect(d?.passEnv).toEqual(['SYNC_TOKEN']);
    expect(d?.to).toBe('5.5');
    expect(d?.nodes.map((x) => [x.address, x.ssh])).toEqual([
      [
        { kind: 'ssh', user: 'admin', host: '10.0.0.1', port: 22, path: '/opt/skiff' },
        { hostKey: { kind: 'pinned', key }, connectTimeoutSeconds: 20 },
      ],
      [
        { kind: 'ssh', user: 'admin', host: '::1', port: 2222, path: '/opt/skiff' },
        {
          hostKey: { kind: 'known-hosts', file: join(homedir(), 'kh') },
          identity: join(dir, 'id'),
          connectTimeoutSeconds: 20,
        },
      ],
    ]);
  });

  it('enterprise-cluster: defaults apply to every node and deployment', async () => {
    const text = dedent`
      topology: 1
      defaults:
        to: 5.5 GA
        concurrency: 3
        nodeTimeoutSeconds: 60
        nodeRuntime: /opt/node/bin/node
        agentDir: /var/lib/uplift
        knownHosts: ./known_hosts
        identity: ./id
        connectTimeoutSeconds: 7
        packs: ./packs
        trust: ./trusted.pub
        channel: stable
      environments:
        - name: prod
          deployments:
            - name: ec
              type: enterprise-cluster
              profile: securetransport
              nodes:
                - { name: e1, at: "ssh://st@e1/opt/st" }
                - { name: e2, at: "ssh://st@e2/opt/st", nodeRuntime: node20, connectTimeoutSeconds: 3 }
    `;
    const { loaded } = await load(text);

    const d = (await loaded).environments[0]?.deployments[0];

    expect(d).toMatchObject({
      to: '5.5 GA',
      concurrency: 3,
      nodeTimeoutSeconds: 60,
      channel: 'stable',
      packs: join(dir, 'packs'),
      trust: join(dir, 'trusted.pub'),
    });
    expect(d?.nodes.map((x) => [x.nodeRuntime, x.agentDir, x.ssh])).toEqual([
      [
        '/opt/node/bin/node',
        '/var/lib/uplift',
        {
          hostKey: { kind: 'known-hosts', file: join(dir, 'known_hosts') },
          identity: join(dir, 'id'),
          connectTimeoutSeconds: 7,
        },
      ],
      [
        'node20',
        '/var/lib/uplift',
        {
          hostKey: { kind: 'known-hosts', file: join(dir, 'known_hosts') },
          identity: join(dir, 'id'),
          connectTimeoutSeconds: 3,
        },
      ],
    ]);
  });

  it('streaming: one backend and its edges, roles kept', async () => {
    const { loaded } = await load(
      one(dedent`
        type: streaming
        profile: securetransport
        nodes:
          - { name: be, at: /opt/st-be, role: backend }
          - { name: e1, at: /opt/st-e1, role: edge }
          - { name: e2, at: /opt/st-e2, role: edge }
      `),
    );

    const d = (await loaded).environments[0]?.deployments[0];

    expect(d?.nodes.map((x) => `${x.name}:${x.role}`)).toEqual([
      'be:backend',
      'e1:edge',
      'e2:edge',
    ]);
  });

  it('active-passive with haproxy, and with a command balancer', async () => {
    const text = dedent`
      topology: 1
      environments:
        - name: prod
          deployments:
            - name: pair
              type: active-passive
              profile: skiff
              balancer: { kind: haproxy, socket: 127.0.0.1:9999, backend: skiff }
              nodes:
                - { name: a, at: /opt/a, side: a, balancerServer: srv-a }
                - { name: b, at: /opt/b, side: b }
            - name: pair2
              type: active-passive
              profile: skiff
              balancer:
                kind: command
                drain: [lb, drain, "\${server}"]
                enable: [lb, up, "\${server}"]
                drainTimeoutSeconds: 5
              nodes:
                - { name: a, at: /opt/c, side: a }
                - { name: b, at: /opt/d, side: b }
    `;
    const { loaded } = await load(text);

    const [pair, pair2] = (await loaded).environments[0]?.deployments ?? [];

    expect(pair?.balancer).toEqual({
      kind: 'haproxy',
      socket: '127.0.0.1:9999',
      backend: 'skiff',
      drainTimeoutSeconds: 120,
    });
    expect(pair?.nodes.map((x) => [x.side, x.balancerServer])).toEqual([
      ['a', 'srv-a'],
      ['b', undefined],
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the balancer's own placeholder, kept literally.
    const server = '${server}';
    expect(pair2?.balancer).toEqual({
      kind: 'command',
      drain: ['lb', 'drain', server],
      enable: ['lb', 'up', server],
      drainTimeoutSeconds: 5,
    });
  });

  it('rolling: its settings, with defaults for those not given', async () => {
    const { loaded } = await load(
      one(dedent`
        type: rolling
        profile: verdaccio
        rolling: { maxUnavailable: 2, pauseSeconds: 10 }
        nodes:
          - { name: m1, at: /srv/m1 }
          - { name: m2, at: /srv/m2 }
      `),
    );

    const d = (await loaded).environments[0]?.deployments[0];

    expect(d?.rolling).toEqual({ maxUnavailable: 2, pauseSeconds: 10, maxFailureRatio: 0 });
  });

  it('keeps environments in the order written (promotion order)', async () => {
    const env = (name: string, path: string) =>
      `  - name: ${name}\n    deployments:\n      - { name: d, type: standalone, profile: p, nodes: [{ name: n, at: ${path} }] }\n`;
    const { loaded } = await load(
      `topology: 1\nenvironments:\n${env('test', '/a')}${env('preprod', '/a')}${env('prod', '/a')}`,
    );

    expect((await loaded).environments.map((e) => e.name)).toEqual(['test', 'preprod', 'prod']);
  });
});

describe('the digest', () => {
  const base = one(dedent`
    type: standalone
    profile: skiff
    nodes:
      - { name: n1, at: /opt/n1 }
  `);

  it('stays the same when only comments and layout change', async () => {
    const a = await (await load(base)).loaded;
    const b = await (
      await load(
        `# the test environment\n\n${base.replace('{ name: n1, at: /opt/n1 }', '{name: n1,   at: /opt/n1}')}`,
      )
    ).loaded;

    expect(b.digest).toBe(a.digest);
    expect(b.environments[0]?.at).not.toBe(a.environments[0]?.at);
  });

  it('changes when what a rollout does changes', async () => {
    const a = await (await load(base)).loaded;
    const b = await (
      await load(base.replace('profile: skiff', 'profile: skiff\n        to: "5.4"'))
    ).loaded;

    expect(b.digest).not.toBe(a.digest);
  });
});

/**
 * Each refusal: the text, the code, and where it must point: the `nth` occurrence of `needle`.
 * The message names the field by its path (`field`).
 */
const refusals: [name: string, text: string, needle: string, nth: number, field: string][] = [
  [
    'an environment name used twice',
    dedent`
      topology: 1
      environments:
        - name: test
          deployments: [{ name: d, type: standalone, profile: p, nodes: [{ name: n, at: /a }] }]
        - name: test
          deployments: [{ name: d, type: standalone, profile: p, nodes: [{ name: n, at: /b }] }]
    `,
    'test',
    2,
    'environments[1].name',
  ],
  [
    'a deployment name used twice in an environment',
    dedent`
      topology: 1
      environments:
        - name: test
          deployments:
            - { name: d, type: standalone, profile: p, nodes: [{ name: n, at: /a }] }
            - { name: d, type: standalone, profile: p, nodes: [{ name: n, at: /b }] }
    `,
    'd,',
    2,
    'environments[0].deployments[1].name',
  ],
  [
    'a node name used twice in a deployment',
    one('type: rolling\nprofile: p\nnodes:\n  - { name: n, at: /a }\n  - { name: n, at: /b }'),
    'n,',
    2,
    'environments[0].deployments[0].nodes[1].name',
  ],
  [
    'one installation twice in an environment (another user, a trailing slash)',
    dedent`
      topology: 1
      environments:
        - name: test
          deployments:
            - { name: d1, type: standalone, profile: p, nodes: [{ name: n, at: "ssh://a@H:22/opt/x", hostKey: "${key}" }] }
            - { name: d2, type: standalone, profile: p, nodes: [{ name: n, at: "ssh://b@h/opt/x/", hostKey: "${key}" }] }
    `,
    '"ssh://b@h',
    1,
    'environments[0].deployments[1].nodes[0].at',
  ],
  [
    'an ssh node without a host key policy',
    one('type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://a@h/opt/x" }'),
    '"ssh://',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'an ssh node with both hostKey and knownHosts',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://a@h/opt/x", hostKey: "${key}", knownHosts: /kh }`,
    ),
    `"${key}"`,
    1,
    'environments[0].deployments[0].nodes[0].hostKey',
  ],
  [
    'a known_hosts line as hostKey',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - name: n\n    at: ssh://a@h/opt/x\n    hostKey: "h1,10.0.0.1 ${key}"`,
    ),
    '"h1',
    1,
    'environments[0].deployments[0].nodes[0].hostKey',
  ],
  [
    'a truncated hostKey',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - name: n\n    at: ssh://a@h/opt/x\n    hostKey: "${key.slice(0, 30)}"`,
    ),
    `"${key.slice(0, 30)}"`,
    1,
    'environments[0].deployments[0].nodes[0].hostKey',
  ],
  [
    'a local node with ssh settings',
    one('type: standalone\nprofile: p\nnodes:\n  - name: n\n    at: /opt/x\n    identity: ./id'),
    './id',
    1,
    'environments[0].deployments[0].nodes[0].identity',
  ],
  [
    'an address that is neither a path nor ssh://',
    one('type: standalone\nprofile: p\nnodes:\n  - { name: n, at: node3 }'),
    'node3',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'an address with a password',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://a:pw@h/x", hostKey: "${key}" }`,
    ),
    '"ssh://',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'an ssh address without a user',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://h:2222/x", hostKey: "${key}" }`,
    ),
    '"ssh://',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'an ssh address without an installation folder',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://u@h", hostKey: "${key}" }`,
    ),
    '"ssh://',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'another scheme',
    one('type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "winrm://h/x" }'),
    '"winrm',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'a standalone deployment with two nodes',
    one('type: standalone\nprofile: p\nnodes:\n  - { name: a, at: /a }\n  - { name: b, at: /b }'),
    '- { name: a',
    1,
    'environments[0].deployments[0].nodes',
  ],
  [
    'a streaming deployment with two backends',
    one(
      'type: streaming\nprofile: p\nnodes:\n  - { name: a, at: /a, role: backend }\n  - { name: b, at: /b, role: backend }',
    ),
    '- { name: a',
    1,
    'environments[0].deployments[0].nodes',
  ],
  [
    'a streaming node without a role',
    one(
      'type: streaming\nprofile: p\nnodes:\n  - { name: a, at: /a, role: backend }\n  - { name: b, at: /b }',
    ),
    '{ name: b',
    1,
    'environments[0].deployments[0].nodes[1]',
  ],
  [
    'an active-passive deployment without a balancer',
    one(
      'type: active-passive\nprofile: p\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b, side: b }',
    ),
    'name: d',
    1,
    'environments[0].deployments[0]',
  ],
  [
    'an active-passive deployment with nothing on side b',
    one(
      'type: active-passive\nprofile: p\nbalancer: { kind: haproxy, socket: /s, backend: be }\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b, side: a }',
    ),
    '- { name: a',
    1,
    'environments[0].deployments[0].nodes',
  ],
  [
    'an active-passive node without a side',
    one(
      'type: active-passive\nprofile: p\nbalancer: { kind: haproxy, socket: /s, backend: be }\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b }',
    ),
    '{ name: b',
    1,
    'environments[0].deployments[0].nodes[1]',
  ],
  [
    'a balancer of an unknown kind',
    one(
      'type: active-passive\nprofile: p\nbalancer:\n  kind: f5\n  socket: /s\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b, side: b }',
    ),
    'f5',
    1,
    'environments[0].deployments[0].balancer.kind',
  ],
  [
    'a haproxy balancer with a command field',
    one(
      'type: active-passive\nprofile: p\nbalancer:\n  kind: haproxy\n  socket: /s\n  backend: be\n  drain: [x]\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b, side: b }',
    ),
    'drain',
    1,
    'environments[0].deployments[0].balancer.drain',
  ],
  [
    'two nodes with one balancer server',
    one(
      'type: active-passive\nprofile: p\nbalancer: { kind: haproxy, socket: /s, backend: be }\nnodes:\n  - { name: a, at: /a, side: a, balancerServer: s }\n  - { name: b, at: /b, side: b, balancerServer: s }',
    ),
    's }',
    2,
    'environments[0].deployments[0].nodes[1].balancerServer',
  ],
  [
    'a role outside streaming',
    one('type: rolling\nprofile: p\nnodes:\n  - { name: a, at: /a, role: edge }'),
    'edge',
    1,
    'environments[0].deployments[0].nodes[0].role',
  ],
  [
    'a side outside active-passive',
    one('type: enterprise-cluster\nprofile: p\nnodes:\n  - { name: a, at: /a, side: a }'),
    'a }',
    1,
    'environments[0].deployments[0].nodes[0].side',
  ],
  [
    'a balancer outside active-passive',
    one(
      'type: rolling\nprofile: p\nbalancer: { kind: haproxy, socket: /s, backend: be }\nnodes:\n  - { name: a, at: /a }',
    ),
    '{ kind: haproxy',
    1,
    'environments[0].deployments[0].balancer',
  ],
  [
    'rolling settings outside rolling',
    one(
      'type: enterprise-cluster\nprofile: p\nrolling: { maxUnavailable: 2 }\nnodes:\n  - { name: a, at: /a }',
    ),
    '{ maxUnavailable',
    1,
    'environments[0].deployments[0].rolling',
  ],
  [
    'afterStart outside standard-cluster',
    one(
      'type: enterprise-cluster\nprofile: p\nafterStart: [sync]\nnodes:\n  - { name: a, at: /a }',
    ),
    '[sync]',
    1,
    'environments[0].deployments[0].afterStart',
  ],
  [
    'an unknown field',
    one('type: rolling\nprofile: p\nmaxUnavialable: 2\nnodes:\n  - { name: a, at: /a }'),
    'maxUnavialable',
    1,
    'environments[0].deployments[0].maxUnavialable',
  ],
  [
    'an unknown type',
    one('type: cluster\nprofile: p\nnodes:\n  - { name: a, at: /a }'),
    'cluster',
    1,
    'environments[0].deployments[0].type',
  ],
  [
    'a number where text belongs... and text where a number belongs',
    one('type: rolling\nprofile: p\nconcurrency: many\nnodes:\n  - { name: a, at: /a }'),
    'many',
    1,
    'environments[0].deployments[0].concurrency',
  ],
  [
    'a deployment without nodes',
    one('type: rolling\nprofile: p\nnodes: []'),
    '[]',
    1,
    'environments[0].deployments[0].nodes',
  ],
  [
    'a passEnv name that is not a variable name',
    one('type: rolling\nprofile: p\npassEnv: [OK_NAME, 1BAD]\nnodes:\n  - { name: a, at: /a }'),
    '1BAD',
    1,
    'environments[0].deployments[0].passEnv[1]',
  ],
  ['another format version', 'topology: 2\nenvironments: []\n', '2', 1, 'topology'],
  // Node's timers fire at once beyond 2^31-1 ms: a wait longer than 24 hours is refused.
  [
    'a connect timeout beyond 24 hours',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: a, at: "ssh://u@h/x", hostKey: "${key}", connectTimeoutSeconds: 3000000 }`,
    ),
    '3000000',
    1,
    'environments[0].deployments[0].nodes[0].connectTimeoutSeconds',
  ],
  [
    'a node timeout beyond 24 hours, in the defaults',
    `topology: 1\ndefaults:\n  nodeTimeoutSeconds: 86401\nenvironments: []\n`,
    '86401',
    1,
    'defaults.nodeTimeoutSeconds',
  ],
  [
    'a pause beyond 24 hours',
    one(
      'type: rolling\nprofile: p\nrolling: { pauseSeconds: 3000000 }\nnodes:\n  - { name: a, at: /a }',
    ),
    '3000000',
    1,
    'environments[0].deployments[0].rolling.pauseSeconds',
  ],
  [
    'a drain timeout beyond 24 hours',
    one(
      'type: active-passive\nprofile: p\nbalancer: { kind: haproxy, socket: /s, backend: be, drainTimeoutSeconds: 3000000 }\nnodes:\n  - { name: a, at: /a, side: a }\n  - { name: b, at: /b, side: b }',
    ),
    '3000000',
    1,
    'environments[0].deployments[0].balancer.drainTimeoutSeconds',
  ],
  [
    'an ssh address with port 0',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: a, at: "ssh://u@h:0/opt/x", hostKey: "${key}" }`,
    ),
    '"ssh://u@h:0',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'an ssh address with a space in its user',
    one(
      `type: standalone\nprofile: p\nnodes:\n  - { name: a, at: "ssh://u u@h/opt", hostKey: "${key}" }`,
    ),
    '"ssh://u u@h',
    1,
    'environments[0].deployments[0].nodes[0].at',
  ],
  [
    'a name with a space',
    one('type: rolling\nprofile: p\nnodes:\n  - { name: "node one", at: /a }'),
    '"node one"',
    1,
    'environments[0].deployments[0].nodes[0].name',
  ],
];

describe('loadTopology refuses, at the line and column of the field', () => {
  it.each(refusals)('%s', async (_name, text, needle, nth, field) => {
    const { file, loaded } = await load(text);

    const err = await loaded.catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: 'UPLIFT_TOPOLOGY_INVALID',
      exitCode: 2,
      unchanged: true,
      location: { file, ...posOf(text, needle, nth) },
      hint: expect.stringMatching(/\S/),
    });
    expect((err as Error).message.startsWith(`${field}: `)).toBe(true);
  });

  it('reports a YAML syntax error at its line', async () => {
    const text = 'topology: 1\nenvironments:\n  - name: [test\n';
    const { file, loaded } = await load(text);

    await expect(loaded).rejects.toMatchObject({
      code: 'UPLIFT_TOPOLOGY_INVALID',
      location: { file, line: 3, col: 11 },
    });
  });

  it('reports every problem, the first in the file first', async () => {
    const text = one(
      'type: streaming\nprofile: p\nnodes:\n  - { name: a, at: nowhere, role: edge }\n  - { name: a, at: /b, role: edge }',
    );
    const { loaded } = await load(text);

    const err = (await loaded.catch((e: unknown) => e)) as { details: { message: string }[] };

    expect(err.details.map((d) => d.message.split(':')[0])).toEqual([
      'environments[0].deployments[0].nodes',
      'environments[0].deployments[0].nodes[0].at',
      'environments[0].deployments[0].nodes[1].name',
    ]);
  });

  it('never puts a password from an address into the error', async () => {
    const { loaded } = await load(
      one(
        `type: standalone\nprofile: p\nnodes:\n  - { name: n, at: "ssh://a:s3cret@h/x", hostKey: "${key}" }`,
      ),
    );

    const err = await loaded.catch((e: unknown) => e);

    expect(JSON.stringify(err)).not.toContain('s3cret');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('hints at the host, not the user, for an address with no host', async () => {
    const { loaded } = await load(
      one(
        `type: standalone\nprofile: p\nnodes:\n  - { name: a, at: "ssh:///opt/x", hostKey: "${key}" }`,
      ),
    );

    const err = await loaded.catch((e: unknown) => e);

    expect((err as Error).message).toMatch(/names no host/);
    expect(err).toMatchObject({ hint: expect.stringContaining('@node1/opt/x') });
  });

  it('refuses a file that is not a regular file, or too large, without reading it', async () => {
    await expect(loadTopology('/dev/zero')).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      exitCode: 2,
      location: { file: '/dev/zero' },
    });
    const big = join(dir, 'big.yaml');
    await writeFile(big, `# ${'x'.repeat(maxInputBytes)}\n`);
    await expect(loadTopology(big)).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      message: expect.stringContaining('MiB'),
    });
  });

  it('names a missing file as UPLIFT_FILE_NOT_FOUND', async () => {
    await expect(loadTopology(join(dir, 'none.yaml'))).rejects.toMatchObject({
      code: 'UPLIFT_FILE_NOT_FOUND',
      hint: expect.stringContaining('--topology'),
    });
  });
});
