import { join } from 'node:path';
import dedent from 'dedent';
import { describe, expect, it } from 'vitest';
import { demoCatalog } from '../../test/util/demo-catalog.ts';
import { loadCatalog } from '../catalog/index.ts';
import { assemblePlan } from './assemble-plan.ts';

/** Every pack hop costs 60 s of downtime. */
const durations = dedent`
  durations:
    downloadBytesPerSecond: 1000
    backup: { seconds: 0 }
    stop: { seconds: 0 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 0 }
    validate: { seconds: 0 }
    rollback: { seconds: 0 }
`;

const linux = { platform: { os: 'linux', id: 'linux-x86-64' } };
const pack = (file: string) => `packs: [{ platform: linux-x86-64, file: ${file}.upk, size: 1000 }]`;

/**
 * Conditional stops at 1.1 GA, 1.3 GA and 2.1 GA, each on a fact no test gives, so each is
 * unknown: only those strictly between the installed version and the target may count.
 */
const body = dedent`
  releases:
    - { version: 1.0 GA, kind: ga, ${pack('a')} }
    - { version: 1.1 GA, kind: ga, ${pack('b')} }
    - { version: 1.2 GA, kind: ga, ${pack('c')} }
    - { version: 1.3 GA, kind: ga, ${pack('d')} }
    - { version: 2.0 GA, kind: ga, ${pack('e')} }
    - { version: 2.1 GA, kind: ga, ${pack('f')} }
  upgrade:
    requiredStops:
      - { release: "1.1", when: { fact: data.a, gt: 1 } }
      - { release: "1.3", when: { fact: data.b, gt: 1 } }
      - { release: "2.1", when: { fact: data.c, gt: 1 } }
`;

describe('verdict scope', () => {
  it.each`
    from        | to          | stops                   | path                              | verdict
    ${'1.0 GA'} | ${'2.0 GA'} | ${['1.1 GA', '1.3 GA']} | ${['1.1 GA', '1.3 GA', '2.0 GA']} | ${'not-recommended'}
    ${'1.1 GA'} | ${'2.0 GA'} | ${['1.3 GA']}           | ${['1.3 GA', '2.0 GA']}           | ${'not-recommended'}
    ${'1.3 GA'} | ${'2.0 GA'} | ${[]}                   | ${['2.0 GA']}                     | ${'recommended'}
    ${'1.2 GA'} | ${'1.3 GA'} | ${[]}                   | ${['1.3 GA']}                     | ${'recommended'}
    ${'1.0 GA'} | ${'1.1 GA'} | ${[]}                   | ${['1.1 GA']}                     | ${'recommended'}
  `(
    '$from → $to: counts only the unknown stops between them ($stops)',
    async ({ from, to, stops, path, verdict }) => {
      const c = await demoCatalog(body, durations);

      const p = assemblePlan({ profile: 'demo', catalog: c, facts: linux, from, to });

      expect(p.steps.map((s) => s.to)).toEqual(path);
      expect(p.conditionalStops.map((s) => s.version)).toEqual(stops);
      expect(p.reasons.filter((r) => r.code === 'conditional-stop-unknown')).toHaveLength(
        stops.length,
      );
      expect(p.verdict).toBe(verdict);
    },
  );

  it('leaves the verdict untouched by an unknown stop that an edge on the path goes past', async () => {
    const c = await demoCatalog(
      body.replace(
        '  requiredStops:',
        '  edges:\n    - { from: 1.0 GA, to: 2.0 GA }\n  requiredStops:',
      ),
      durations,
    );

    const p = assemblePlan({
      profile: 'demo',
      catalog: c,
      facts: linux,
      from: '1.0 GA',
      to: '2.0 GA',
    });

    expect(p.steps.map((s) => [s.to, s.reason.code])).toEqual([['2.0 GA', 'edge']]);
    expect(p.conditionalStops.filter((s) => s.outcome === 'unknown')).toEqual([]);
    expect(p.reasons.map((r) => r.code)).not.toContain('conditional-stop-unknown');
    expect(p.verdict).toBe('recommended');
  });

  it('skiff 5.4 Patch 2 → 5.5 GA does not name the 5.3.6 GA stop or lower the verdict', async () => {
    const c = await loadCatalog(join(import.meta.dirname, '../../profiles/skiff/catalog.yaml'));
    // The sample's facts, all known except the one fact the 5.3.6 GA stop reads.
    const facts = {
      ...linux,
      database: { type: 'sqlite' },
      data: { installBytes: 412000000 },
      scheduler: { cronJobs: 2 },
      network: { proxyConfigured: false },
      security: { customCipherSets: false, tlsProtocols: ['TLSv1.2', 'TLSv1.3'] },
    };

    const p = assemblePlan({
      profile: 'skiff',
      catalog: c,
      facts,
      from: '5.4 Patch 2',
      to: '5.5 GA',
    });

    expect(JSON.stringify(p.reasons)).not.toContain('5.3.6');
    expect(p.conditionalStops).toEqual([]);
    expect(p.reasons.filter((r) => r.missingFacts)).toEqual([]);
    expect(p.verdict).toBe('possible-with-actions');
  });
});
