import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfile, type Profile } from '../profile/index.ts';
import { type OpenedStateStore, openStateStore } from '../state/index.ts';
import type { HopSample } from './learn.ts';
import { hopPrefix, publishSamples, storeSamples } from './store.ts';

describe('measured hops in a real SQLite state store', () => {
  let dir: string;
  let store: OpenedStateStore;
  let profile: Profile;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'uplift-estimate-store-'));
    store = await openStateStore({ file: join(dir, 'state.db'), env: {} });
    profile = await loadProfile('skiff');
  });

  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const sample: HopSample = {
    from: '5.3.0 Patch 2',
    to: '5.3.3 GA',
    source: '/srv/test/skiff run r1',
    runId: 'r1',
    at: '2026-01-01T00:00:00.000Z',
    stepSeconds: { stop: 0.5, migrate: 1.25, probe: 2.125 },
    downtimeSeconds: 4,
    volume: { 'data.fileTrackingRows': 700000, 'data.installBytes': 1e8 },
  };

  it('shares each run once and reads it back with its data volume', async () => {
    const first = await publishSamples(store, [sample], '/srv/test/skiff');
    const second = await publishSamples(store, [sample], '/srv/test/skiff');

    const back = await storeSamples(store, [{ from: sample.from, to: sample.to }], profile.catalog);

    expect([first, second]).toEqual([1, 0]);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({
      from: sample.from,
      to: sample.to,
      runId: 'r1',
      stepSeconds: sample.stepSeconds,
      downtimeSeconds: 4,
      volume: sample.volume,
    });
    expect(back[0]?.source).toMatch(/state\.db run r1 \(\/srv\/test\/skiff on /);
    expect((await store.stepTimings('r1')).map((t) => t.step)).toEqual(
      ['stop', 'migrate', 'probe', 'downtime'].map(
        (s) => `${hopPrefix(sample.from, sample.to)}${s}`,
      ),
    );
    expect(
      await storeSamples(store, [{ from: '5.4 GA', to: '5.4 Patch 1' }], profile.catalog),
    ).toEqual([]);
  });
});
