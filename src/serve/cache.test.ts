import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedTopology, SharedResults } from './cache.ts';

const topologyText = (env: string) =>
  `topology: 1\nenvironments:\n  - name: ${env}\n    deployments:\n      - name: d\n        type: standalone\n        profile: ./profiles/demo\n        nodes:\n          - { name: n1, at: ./installs/n1 }\n`;

describe('cachedTopology', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'uplift-serve-cache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('parses the file once while it is unchanged, and again when it changes', async () => {
    const file = join(dir, 'uplift.yaml');
    await writeFile(file, topologyText('test'));
    const read = cachedTopology(file);

    const first = await read();
    const second = await read();
    await writeFile(file, topologyText('staging'));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    const third = await read();

    expect(second).toBe(first);
    expect(first.environments.map((e) => e.name)).toEqual(['test']);
    expect(third.environments.map((e) => e.name)).toEqual(['staging']);
  });

  it('refuses a missing or invalid file with its coded error every time, and keeps no failure', async () => {
    const file = join(dir, 'uplift.yaml');
    const read = cachedTopology(file);

    await expect(read()).rejects.toMatchObject({ code: 'UPLIFT_FILE_NOT_FOUND' });
    await writeFile(file, 'topology: 1\nenvironments: nope\n');
    await expect(read()).rejects.toMatchObject({ code: 'UPLIFT_TOPOLOGY_INVALID' });
    await writeFile(file, topologyText('test'));
    await utimes(file, new Date(), new Date(Date.now() + 5000));

    expect((await read()).environments).toHaveLength(1);
  });
});

describe('SharedResults', () => {
  it('runs one computation for concurrent and recent requests of a key, and again after the ttl', async () => {
    const shared = new SharedResults<number>(150);
    let runs = 0;
    const compute = async () => {
      runs += 1;
      await new Promise((r) => setTimeout(r, 20));
      return runs;
    };

    const together = await Promise.all(Array.from({ length: 50 }, () => shared.get('a', compute)));
    const soon = await shared.get('a', compute);
    const other = await shared.get('b', compute);
    await new Promise((r) => setTimeout(r, 200));
    const later = await shared.get('a', compute);

    expect(new Set(together)).toEqual(new Set([1]));
    expect(soon).toBe(1);
    expect(other).toBe(2);
    expect(later).toBe(3);
  });

  it('does not keep a failure', async () => {
    const shared = new SharedResults<string>(10_000);
    let calls = 0;

    await expect(
      shared.get('k', async () => {
        calls += 1;
        throw new Error('store down');
      }),
    ).rejects.toThrow('store down');
    const value = await shared.get('k', async () => {
      calls += 1;
      return 'ok';
    });

    expect(value).toBe('ok');
    expect(calls).toBe(2);
  });
});
