import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dedent from 'dedent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory, loadTopology, openTopology, type Topology } from './index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-inventory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** The topology without positions and its file: what two sources describing one fleet share. */
function bare(t: Topology) {
  return {
    digest: t.digest,
    environments: t.environments.map(({ at: _e, ...e }) => ({
      ...e,
      deployments: e.deployments.map(({ at: _d, ...d }) => d),
    })),
  };
}

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEiVS9jAZO+npZqvG2kcTMjOLYXcQvdYrZJZbzc92KX6';

/** One fleet three ways: uplift.yaml, a YAML inventory and an INI inventory. */
const upliftYaml = dedent`
  topology: 1
  defaults:
    knownHosts: ./known_hosts
    identity: ./id_uplift
    to: 5.5 GA
  environments:
    - name: test
      deployments:
        - name: st_test
          type: standalone
          profile: securetransport
          nodes:
            - { name: st-test, at: ./installs/st-test }
    - name: prod
      deployments:
        - name: skiff_cluster
          type: standard-cluster
          profile: ./profiles/skiff
          afterStart: [/opt/skiff/bin/sync, --all]
          nodes:
            - { name: sk1, at: "ssh://uplift@10.0.0.11/opt/skiff", hostKey: "${key}" }
            - { name: sk2, at: "ssh://uplift@10.0.0.12:2222/opt/skiff" }
        - name: st_streaming
          type: streaming
          profile: securetransport
          concurrency: 2
          nodes:
            - { name: be, at: "ssh://st@be.example.net/opt/st", role: backend, nodeRuntime: /opt/node/bin/node }
            - { name: edge1, at: "ssh://st@edge1.example.net/opt/st", role: edge }
            - { name: edge2, at: "ssh://st@edge2.example.net/opt/st", role: edge }
        - name: pair
          type: active-passive
          profile: skiff
          balancer: { kind: haproxy, socket: 127.0.0.1:9999, backend: skiff, drainTimeoutSeconds: 30 }
          nodes:
            - { name: pa, at: "ssh://uplift@pa/opt/skiff", side: a, balancerServer: skiff-a }
            - { name: pb, at: "ssh://uplift@pb/opt/skiff", side: b, balancerServer: skiff-b }
        - name: mirrors
          type: rolling
          profile: verdaccio
          to: 6.1.2
          rolling: { maxUnavailable: 2, pauseSeconds: 5 }
          nodes:
            - { name: m01, at: "ssh://npm@m01/srv/verdaccio" }
            - { name: m02, at: "ssh://npm@m02/srv/verdaccio" }
            - { name: m03, at: "ssh://npm@m03/srv/verdaccio" }
`;

const hostsYml = dedent`
  all:
    vars:
      uplift_environments: [test, prod]
      uplift_known_hosts: ./known_hosts
      ansible_ssh_private_key_file: ./id_uplift
      uplift_to: 5.5 GA
      ansible_python_interpreter: /usr/bin/python3   # not ours: ignored
    children:
      test:
        vars: { uplift_env: test }
        children:
          st_test:
            vars: { uplift_type: standalone, uplift_profile: securetransport }
            hosts:
              st-test: { ansible_connection: local, uplift_path: ./installs/st-test }
      prod:
        vars: { uplift_env: prod }
        children:
          skiff_cluster:
            vars:
              uplift_type: standard-cluster
              uplift_profile: ./profiles/skiff
              uplift_after_start: [/opt/skiff/bin/sync, --all]
              ansible_user: uplift
              uplift_path: /opt/skiff
            hosts:
              sk1: { ansible_host: 10.0.0.11, uplift_host_key: "${key}" }
              sk2: { ansible_host: 10.0.0.12, ansible_port: 2222 }
          st_streaming:
            vars: { uplift_type: streaming, uplift_profile: securetransport, uplift_concurrency: 2 }
            hosts:
              be: { ansible_host: be.example.net, uplift_role: backend, uplift_node_runtime: /opt/node/bin/node }
            children:
              st_edges:
                vars: { uplift_role: edge }
                hosts:
                  edge1: { ansible_host: edge1.example.net }
                  edge2: { ansible_host: edge2.example.net }
          pair:
            vars:
              uplift_type: active-passive
              uplift_profile: skiff
              uplift_balancer: { kind: haproxy, socket: "127.0.0.1:9999", backend: skiff, drainTimeoutSeconds: 30 }
              ansible_user: uplift
              uplift_path: /opt/skiff
            hosts:
              pa: { uplift_side: a, uplift_balancer_server: skiff-a }
              pb: { uplift_side: b, uplift_balancer_server: skiff-b }
          mirrors:
            vars:
              uplift_type: rolling
              uplift_profile: verdaccio
              uplift_to: 6.1.2
              uplift_rolling: { maxUnavailable: 2, pauseSeconds: 5 }
              ansible_user: npm
              uplift_path: /srv/verdaccio
            hosts:
              m[01:03]:
  streamers:
    vars: { ansible_user: st, uplift_path: /opt/st }
    children:
      st_streaming:
`;

const hostsIni = dedent`
  # The same fleet as an INI inventory.
  [all:vars]
  uplift_environments=["test", "prod"]
  uplift_known_hosts=./known_hosts
  ansible_ssh_private_key_file=./id_uplift
  uplift_to=5.5 GA

  [st_test]
  st-test ansible_connection=local uplift_path=./installs/st-test

  [st_test:vars]
  uplift_type=standalone
  uplift_profile=securetransport

  [test:children]
  st_test

  [test:vars]
  uplift_env=test

  [skiff_cluster]
  sk1 ansible_host=10.0.0.11 uplift_host_key="${key}"   # pinned
  sk2:2222 ansible_host=10.0.0.12

  [skiff_cluster:vars]
  uplift_type=standard-cluster
  uplift_profile=./profiles/skiff
  uplift_after_start=["/opt/skiff/bin/sync", "--all"]
  ansible_user=uplift
  uplift_path=/opt/skiff

  [st_streaming]
  be ansible_host=be.example.net uplift_role=backend uplift_node_runtime=/opt/node/bin/node

  [st_edges]
  edge1 ansible_host=edge1.example.net
  edge2 ansible_host='edge2.example.net'

  [st_edges:vars]
  uplift_role=edge

  [st_streaming:children]
  st_edges

  [st_streaming:vars]
  uplift_type=streaming
  uplift_profile=securetransport
  uplift_concurrency=2

  [streamers:children]
  st_streaming

  [streamers:vars]
  ansible_user=st
  uplift_path=/opt/st

  [pair]
  pa uplift_side=a uplift_balancer_server=skiff-a
  pb uplift_side=b uplift_balancer_server=skiff-b

  [pair:vars]
  uplift_type=active-passive
  uplift_profile=skiff
  uplift_balancer={"kind": "haproxy", "socket": "127.0.0.1:9999", "backend": "skiff", "drainTimeoutSeconds": 30}
  ansible_user=uplift
  uplift_path=/opt/skiff

  [mirrors]
  m[01:03]

  [mirrors:vars]
  uplift_type=rolling
  uplift_profile=verdaccio
  uplift_to=6.1.2
  uplift_rolling={"maxUnavailable": 2, "pauseSeconds": 5}
  ansible_user=npm
  uplift_path=/srv/verdaccio

  [prod:children]
  skiff_cluster
  st_streaming
  pair
  mirrors

  [prod:vars]
  uplift_env=prod
`;

describe('an Ansible inventory as the topology', () => {
  it('a YAML inventory gives the same topology (and digest) as the equivalent uplift.yaml', async () => {
    const expected = bare(await loadTopology(await write('uplift.yaml', upliftYaml)));

    const got = bare(await loadInventory(await write('hosts.yml', hostsYml)));

    expect(got).toEqual(expected);
  });

  it('an INI inventory gives the same topology (and digest) as the equivalent uplift.yaml', async () => {
    const expected = bare(await loadTopology(await write('uplift.yaml', upliftYaml)));

    const got = bare(await loadInventory(await write('hosts', hostsIni)));

    expect(got).toEqual(expected);
  });

  it('points each deployment and environment at its inventory line', async () => {
    const file = await write('hosts.ini', hostsIni);

    const t = await loadInventory(file);

    const lines = hostsIni.split('\n');
    const lineOf = (s: string) => lines.findIndex((l) => l.startsWith(s)) + 1;
    expect(t.file).toBe(file);
    expect(t.environments.map((e) => e.at)).toEqual([
      `${file}:${lineOf('uplift_env=test')}:1`,
      `${file}:${lineOf('uplift_env=prod')}:1`,
    ]);
    expect(t.environments[1]?.deployments.map((d) => d.at)).toEqual(
      ['skiff_cluster', 'st_streaming', 'pair', 'mirrors'].map(
        (g) => `${file}:${lineOf(`[${g}]`)}:1`,
      ),
    );
  });

  it('takes localhost without a port as a local node, and with a port as ssh', async () => {
    const file = await write(
      'local.ini',
      dedent`
        [a]
        localhost uplift_path=/opt/a
        [a:vars]
        uplift_type=standalone
        uplift_profile=p
        uplift_env=dev
        [b]
        localhost2 ansible_host=localhost ansible_port=2200 ansible_user=me uplift_path=/opt/b uplift_host_key="${key}"
        [b:vars]
        uplift_type=standalone
        uplift_profile=p
        uplift_env=dev
      `,
    );

    const t = await loadInventory(file);

    expect(t.environments[0]?.deployments.map((d) => d.nodes[0]?.address)).toEqual([
      { kind: 'local', path: '/opt/a' },
      { kind: 'ssh', user: 'me', host: 'localhost', port: 2200, path: '/opt/b' },
    ]);
  });

  it('openTopology refuses --topology with --inventory', async () => {
    await expect(
      openTopology({ topology: 'uplift.yaml', inventory: 'hosts' }),
    ).rejects.toMatchObject({
      code: 'UPLIFT_USAGE',
    });
  });
});

/** Refused inventories: the file name (its format), the text, and the needle the error must point at. */
const refusals: [name: string, file: string, text: string, needle: string, message: RegExp][] = [
  [
    'INI: a host without uplift_path',
    'hosts',
    '[d]\nnode1 ansible_user=u uplift_host_key=x\n[d:vars]\nuplift_type=rolling\nuplift_profile=p\nuplift_env=e\n',
    'node1',
    /host node1: no uplift_path/,
  ],
  [
    'INI: an ssh host without ansible_user',
    'hosts',
    `[d]\nnode1 uplift_path=/opt/x uplift_host_key="${key}"\n[d:vars]\nuplift_type=rolling\nuplift_profile=p\nuplift_env=e\n`,
    'node1',
    /host node1: no ansible_user/,
  ],
  [
    'INI: a misspelt uplift variable',
    'hosts',
    '[d]\nlocalhost uplift_path=/x\n[d:vars]\nuplift_type=rolling\nuplift_profil=p\nuplift_env=e\n',
    'uplift_profil=',
    /group d: unknown variable uplift_profil/,
  ],
  [
    'INI: an unknown deployment type, at the variable that sets it',
    'hosts',
    '[d]\nlocalhost uplift_path=/x\n[d:vars]\nuplift_type=cluster\nuplift_profile=p\nuplift_env=e\n',
    'uplift_type=',
    /^group d: uplift_type: /,
  ],
  [
    'INI: a streaming deployment with two backends, at the group',
    'hosts',
    '[d]\nlocalhost uplift_path=/x uplift_role=backend\nother ansible_connection=local uplift_path=/y uplift_role=backend\n[d:vars]\nuplift_type=streaming\nuplift_profile=p\nuplift_env=e\n',
    '[d]',
    /group d: a streaming deployment has exactly one backend/,
  ],
  [
    'INI: a role that is not backend or edge, at the host variable',
    'hosts',
    '[d]\nlocalhost uplift_path=/x uplift_role=primary\n[d:vars]\nuplift_type=streaming\nuplift_profile=p\nuplift_env=e\n',
    'uplift_role=',
    /^host localhost: uplift_role: /,
  ],
  [
    'INI: an ssh host without a host key policy, at its uplift_path',
    'hosts',
    '[d]\nn1 ansible_user=u uplift_path=/x\n[d:vars]\nuplift_type=rolling\nuplift_profile=p\nuplift_env=e\n',
    'uplift_path=',
    /has no host key policy/,
  ],
  [
    'INI: a group header that is not one',
    'hosts',
    '[d:hostvars]\nn1\n',
    '[d:hostvars]',
    /is not a group header/,
  ],
  [
    'INI: an unclosed quote',
    'hosts',
    '[d]\nn1 uplift_path="/x\n',
    '"/x',
    /quote opened here is not closed/,
  ],
  [
    'INI: a range that is not one',
    'hosts',
    '[d]\nnode[a:9] uplift_path=/x\n',
    'node[a:9]',
    /not a range/,
  ],
  [
    'YAML: a range of a hundred million hosts, at once and at its line',
    'hosts.yml',
    'all:\n  hosts:\n    "n[1:100000000]": {}\n',
    '"n[1:100000000]"',
    /names more than 10000 hosts/,
  ],
  [
    'INI: two ranges that multiply past the limit',
    'hosts',
    '[d]\nn[1:1000]-[1:1000] uplift_path=/x\n',
    'n[1:1000]',
    /names more than 10000 hosts/,
  ],
  [
    'YAML: an ansible_port out of range, at the port, not at uplift_path',
    'hosts.yml',
    `all:\n  children:\n    d:\n      vars: { uplift_type: standalone, uplift_profile: p, uplift_env: e }\n      hosts:\n        n1: { ansible_user: u, uplift_host_key: "${key}", uplift_path: /x, ansible_port: 70000 }\n`,
    'ansible_port',
    /ansible_port/,
  ],
  [
    'INI: a broken JSON value',
    'hosts',
    '[d:vars]\nuplift_rolling={"maxUnavailable": 2\n',
    'uplift_rolling',
    /is not a list or map/,
  ],
  [
    'INI: two environments without a promotion order',
    'hosts',
    '[a]\nlocalhost uplift_path=/x\n[a:vars]\nuplift_type=standalone\nuplift_profile=p\nuplift_env=test\n[b]\nlocalhost uplift_path=/y\n[b:vars]\nuplift_type=standalone\nuplift_profile=p\nuplift_env=prod\n',
    'uplift_env=prod',
    /several environments \(test, prod\) but not their promotion order/,
  ],
  [
    'INI: an environment missing from uplift_environments',
    'hosts',
    '[all:vars]\nuplift_environments=["test"]\n[a]\nlocalhost uplift_path=/x\n[a:vars]\nuplift_type=standalone\nuplift_profile=p\nuplift_env=prod\n',
    'uplift_env=prod',
    /uplift_env "prod" is not in uplift_environments/,
  ],
  [
    'INI: a deployment group without an environment',
    'hosts',
    '[a]\nlocalhost uplift_path=/x\n[a:vars]\nuplift_type=standalone\nuplift_profile=p\n',
    '[a]',
    /group a: sets uplift_type but names no environment/,
  ],
  [
    'INI: no deployment at all',
    'hosts',
    '[web]\nw1\n',
    '[web]',
    /no group of the inventory is a deployment/,
  ],
  [
    'INI: an unsupported connection',
    'hosts',
    '[a]\nwin ansible_connection=winrm uplift_path=/x\n[a:vars]\nuplift_type=standalone\nuplift_profile=p\nuplift_env=e\n',
    'ansible_connection',
    /ansible_connection=winrm is not supported/,
  ],
  [
    'YAML: one installation twice in an environment',
    'hosts.yml',
    dedent`
      all:
        vars: { uplift_env: prod, uplift_profile: p }
        children:
          a:
            vars: { uplift_type: standalone }
            hosts:
              x1: { ansible_connection: local, uplift_path: /opt/x }
          b:
            vars: { uplift_type: standalone }
            hosts:
              x2: { ansible_connection: local, uplift_path: /opt/x/ }
    `,
    'uplift_path: /opt/x/',
    /host x2: uplift_path: the same installation is already listed as a\/x1/,
  ],
  [
    'YAML: a group key that is not hosts, vars or children',
    'hosts.yml',
    'all:\n  children:\n    a:\n      host:\n        x: {}\n',
    'host:',
    /group a: unknown key "host"/,
  ],
  [
    'YAML: a wrong type in a group variable',
    'hosts.yml',
    dedent`
      all:
        children:
          a:
            vars: { uplift_type: rolling, uplift_profile: p, uplift_env: e, uplift_concurrency: lots }
            hosts:
              x: { ansible_connection: local, uplift_path: /opt/x }
    `,
    'uplift_concurrency',
    /^group a: uplift_concurrency: /,
  ],
  ['YAML: a syntax error', 'hosts.yml', 'all:\n  hosts: [x\n', '[x', /not valid YAML/],
];

/** 1-based line and column of `needle` in `text`. */
function posOf(text: string, needle: string): { line: number; col: number } {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`"${needle}" is not in the text`);
  const before = text.slice(0, i).split('\n');
  return { line: before.length, col: (before.at(-1) as string).length + 1 };
}

describe('loadInventory refuses, at the inventory line', () => {
  it.each(refusals)('%s', async (_name, name, text, needle, message) => {
    const file = await write(name, text);

    const err = await loadInventory(file).catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: 'UPLIFT_INVENTORY_INVALID',
      exitCode: 2,
      location: { file, ...posOf(text, needle) },
      hint: expect.stringMatching(/\S/),
    });
    expect((err as Error).message).toMatch(message);
  });
});

describe('the Ansible INI dialect', () => {
  it('reads comments, quotes, ports, letter and stepped ranges, and leaves other tools’ values alone', async () => {
    const text = dedent`
      ; a comment line
      # another
      [web]
      w[a:c] ansible_user=u uplift_path="/opt/web app"   # a trailing comment
      db[01:05:2]:2200 ansible_user=u uplift_path=/opt/db ansible_become_password={notjson
      [web:vars]
      uplift_type=rolling
      uplift_profile=p
      uplift_env=e
      uplift_known_hosts=./kh
    `;
    const file = await write('dialect.ini', text);

    const t = await loadInventory(file);

    const nodes = t.environments[0]?.deployments[0]?.nodes ?? [];
    expect(nodes.map((x) => x.name)).toEqual(['wa', 'wb', 'wc', 'db01', 'db03', 'db05']);
    expect(nodes[0]?.address).toEqual({
      kind: 'ssh',
      user: 'u',
      host: 'wa',
      port: 22,
      path: '/opt/web app',
    });
    expect(nodes[3]?.address).toMatchObject({ host: 'db01', port: 2200, path: '/opt/db' });
  });
});

describe('the Ansible YAML inventory', () => {
  it('takes ranges with a port, and null groups and hosts', async () => {
    const text = dedent`
      all:
        vars: { uplift_known_hosts: /etc/ssh/ssh_known_hosts }
        children:
          empty:
          db:
            vars: { uplift_type: enterprise-cluster, uplift_profile: p, uplift_env: e, ansible_user: u, uplift_path: /opt/db }
            hosts:
              db[1:2]:2200:
    `;
    const file = await write('ranges.yml', text);

    const t = await loadInventory(file);

    expect(t.environments[0]?.deployments[0]?.nodes.map((x) => x.address)).toEqual([
      { kind: 'ssh', user: 'u', host: 'db1', port: 2200, path: '/opt/db' },
      { kind: 'ssh', user: 'u', host: 'db2', port: 2200, path: '/opt/db' },
    ]);
  });
});
