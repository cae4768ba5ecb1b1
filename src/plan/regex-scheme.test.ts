import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../catalog/index.ts';
import { assemblePlan } from './assemble-plan.ts';

/** A profile describes a new product's versions with a regex, without code, and the planner uses it. */
const text = dedent`
  catalog: 1
  product: harbor
  title: Harbor (a made-up product spelling versions 7.1r3)
  versionScheme: "regex:^(?<major>\\d+)\\.(?<minor>\\d+)(?:r(?<level>\\d+))?$"
  releases:
    - { version: "7.0", kind: ga }
    - { version: 7.0r1, kind: patch }
    - { version: 7.0r2, kind: patch }
    - { version: "7.1", kind: ga }
    - { version: 7.1r1, kind: patch }
    - { version: "8.0", kind: ga }
  upgrade:
    latestPatchFirst: true
    requiredStops:
      - { release: "7.1", take: latest-patch }
  durations:
    downloadBytesPerSecond: 1000000
    backup: { seconds: 10 }
    stop: { seconds: 10 }
    apply: { seconds: 10 }
    migrate: { seconds: 10 }
    start: { seconds: 10 }
    validate: { seconds: 10 }
    rollback: { seconds: 10 }
  illustrative: true
  reason: a catalog written for a test
`;

describe('a regex version scheme declared in a catalog', () => {
  it('orders the versions and plans through the stops it names', async () => {
    const catalog = await parseCatalog(text, 'harbor.yaml');

    const plan = assemblePlan({
      profile: 'harbor',
      catalog,
      facts: {},
      from: '7.0r1',
      to: 'latest',
    });

    expect(catalog.versions).toEqual(['7.0', '7.0r1', '7.0r2', '7.1', '7.1r1', '8.0']);
    expect(plan.steps.map((s) => [s.stage, s.to])).toEqual([
      ['prerequisite', '7.0r2'],
      ['upgrade', '7.1r1'],
      ['upgrade', '8.0'],
    ]);
  });
});
