import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCliInProcess } from '../../test/util/run-cli.ts';
import { loadInventory, loadTopology } from './index.ts';

const root = join(import.meta.dirname, '../..');
const docs = readFileSync(join(root, 'docs/topology.md'), 'utf8');

/** The first fenced block of `lang` after the heading `heading` in docs/topology.md. */
function block(heading: string, lang: string, nth = 1): string {
  const from = docs.indexOf(`\n## ${heading}\n`);
  if (from < 0) throw new Error(`docs/topology.md has no "## ${heading}"`);
  let at = from;
  for (let k = 0; k < nth; k++) {
    at = docs.indexOf(`\n\`\`\`${lang}\n`, at + 1);
    if (at < 0) throw new Error(`no ${lang} block #${nth} after "## ${heading}"`);
  }
  const start = at + `\n\`\`\`${lang}\n`.length;
  return docs.slice(start, docs.indexOf('\n```\n', start) + 1);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-topology-docs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const example = block('A complete example', 'yaml');

describe('docs/topology.md', () => {
  it('the complete example loads, with one deployment of every type', async () => {
    const file = join(dir, 'uplift.yaml');
    await writeFile(file, example);

    const t = await loadTopology(file);

    const types = t.environments.flatMap((e) => e.deployments.map((d) => d.type));
    expect(new Set(types)).toEqual(
      new Set([
        'standalone',
        'standard-cluster',
        'enterprise-cluster',
        'streaming',
        'active-passive',
        'rolling',
      ]),
    );
    expect(t.environments.map((e) => e.name)).toEqual(['test', 'preprod', 'prod']);
  });

  it('the complete example is valid under schemas/topology.schema.json', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(root, 'schemas/topology.schema.json'), 'utf8')),
    );

    expect(validate(parse(example)), ajv.errorsText(validate.errors)).toBe(true);
    expect(validate({ ...parse(example), environmnets: [] })).toBe(false);
  });

  it('the YAML and INI inventory examples describe the same topology', async () => {
    const yml = join(dir, 'hosts.yml');
    const ini = join(dir, 'hosts');
    await writeFile(yml, block('Ansible inventory', 'yaml'));
    await writeFile(ini, block('Ansible inventory', 'ini'));

    const [a, b] = await Promise.all([loadInventory(yml), loadInventory(ini)]);

    expect(a.digest).toBe(b.digest);
    expect(a.environments.map((e) => [e.name, e.deployments.map((d) => d.name)])).toEqual([
      ['test', ['st_test']],
      ['prod', ['st_streaming']],
    ]);
  });
});

describe('uplift topology check', () => {
  it('prints the environments, deployments and addresses as JSON, and warns about missing files', async () => {
    const sub = join(dir, 'cli');
    await mkdir(join(sub, 'keys'), { recursive: true });
    await writeFile(join(sub, 'keys/known_hosts'), '');
    const file = join(sub, 'uplift.yaml');
    await writeFile(file, example);

    const res = await runCliInProcess(['topology', 'check', '--topology', file, '--json']);

    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout);
    expect(out.digest).toMatch(/^sha256:/);
    const prod = out.environments.find((e: { name: string }) => e.name === 'prod');
    expect(prod.deployments.find((d: { name: string }) => d.name === 'st-streaming')).toEqual({
      name: 'st-streaming',
      type: 'streaming',
      profile: 'securetransport',
      to: 'latest',
      channel: 'stable',
      nodeCount: 3,
      nodes: [
        {
          name: 'backend',
          address: 'ssh://uplift@st-be.example.net/opt/st',
          hostKey: 'known-hosts',
          role: 'backend',
        },
        {
          name: 'edge1',
          address: 'ssh://uplift@st-edge1.example.net/opt/st',
          hostKey: 'known-hosts',
          role: 'edge',
        },
        {
          name: 'edge2',
          address: 'ssh://uplift@st-edge2.example.net/opt/st',
          hostKey: 'known-hosts',
          role: 'edge',
        },
      ],
    });
    expect(out.warnings).toContainEqual(expect.stringContaining(join(sub, 'keys/uplift_ed25519')));
    expect(out.warnings.join('\n')).not.toContain('known_hosts');
  });

  it('prints the text view of an inventory', async () => {
    const ini = join(dir, 'hosts.ini');
    await writeFile(ini, block('Ansible inventory', 'ini'));

    const res = await runCliInProcess(['topology', 'check', '--inventory', ini]);

    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      'st_streaming: streaming, profile securetransport, to 5.5 GA, 2 nodes',
    );
    expect(res.stdout).toContain('edge1  ssh://uplift@st-edge1.example.net/opt/st  (edge)');
  });

  it('exits 2 with the coded error at file:line:col', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, example.replace('at: ./installs/st-test', 'at: st-test'));

    const res = await runCliInProcess(['topology', 'check', '--topology', file, '--json']);

    expect(res.code).toBe(2);
    const line = example.split('\n').findIndex((l) => l.includes('at: ./installs/st-test')) + 1;
    expect(JSON.parse(res.stdout).error).toMatchObject({
      code: 'UPLIFT_TOPOLOGY_INVALID',
      location: { file, line, col: 17, path: 'environments[0].deployments[0].nodes[0].at' },
    });
  });

  it('exits 2 when the default uplift.yaml is missing, naming --topology', async () => {
    const res = await runCliInProcess(['topology', 'check', '--topology', join(dir, 'none.yaml')]);

    expect(res.code).toBe(2);
    expect(res.stderr).toContain('UPLIFT_FILE_NOT_FOUND');
  });
});
