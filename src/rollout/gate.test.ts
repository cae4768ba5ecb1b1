import { describe, expect, it } from 'vitest';
import { testDeployment, testEnvironment, testNode } from '../../test/util/rollout-topology.ts';
import type { PlanKey } from '../state/types.ts';
import type { Topology } from '../topology/types.ts';
import { assertGate, describeGate, gateFor } from './gate.ts';

const key: PlanKey = {
  profile: 'demo',
  profileDigest: 'p1',
  path: ['1.0.0', '2.0.0'],
  packDigests: ['sha-a'],
};

const topology: Topology = {
  file: '/etc/uplift.yaml',
  digest: 't',
  environments: [
    testEnvironment('test', [testDeployment('app', 'standalone', [testNode('t1')])]),
    testEnvironment('preprod', [testDeployment('app', 'enterprise-cluster', [testNode('p1')])]),
    testEnvironment('prod', [testDeployment('app', 'enterprise-cluster', [testNode('q1')])]),
  ],
};

const keys = new Map([['app', key]]);

describe('gateFor', () => {
  it('passes the first environment: nothing comes before it', () => {
    expect(gateFor(topology, 'test', keys, new Map())).toEqual({
      pass: true,
      env: 'test',
      earlier: [],
    });
  });

  it('passes when the same plan passed in every earlier environment', () => {
    const passed = new Map([
      ['test', [key]],
      ['preprod', [{ ...key, path: ['0.9.0', '1.0.0'] }, key]],
    ]);

    expect(gateFor(topology, 'prod', keys, passed).pass).toBe(true);
  });

  it('refuses prod before preprod passed, naming what is missing where', () => {
    const v = gateFor(topology, 'prod', keys, new Map([['test', [key]]]));

    expect(v).toEqual({
      pass: false,
      env: 'prod',
      earlier: ['test', 'preprod'],
      gaps: [
        {
          env: 'preprod',
          deployment: 'app',
          profile: 'demo',
          reason: 'not-passed',
          differences: [],
        },
      ],
    });
    expect(describeGate(v)).toBe('preprod has no passed plan of profile demo (for prod/app)');
  });

  it('refuses a different plan, field by field against the closest one that passed', () => {
    const other = { ...key, packDigests: ['sha-b'], profileDigest: 'p0' };
    const closer = { ...key, packDigests: ['sha-b'] };
    const v = gateFor(topology, 'preprod', keys, new Map([['test', [other, closer]]]));

    expect(v.pass).toBe(false);
    expect(v.pass === false && v.gaps).toEqual([
      {
        env: 'test',
        deployment: 'app',
        profile: 'demo',
        reason: 'different',
        differences: [{ field: 'packDigests', want: ['sha-a'], got: ['sha-b'] }],
      },
    ]);
  });

  it('tells a different path and a different profile digest apart', () => {
    const v = gateFor(
      topology,
      'preprod',
      keys,
      new Map([['test', [{ ...key, profileDigest: 'p0', path: ['1.0.0', '1.5.0', '2.0.0'] }]]]),
    );

    expect(v.pass === false && v.gaps[0]?.differences.map((d) => d.field)).toEqual([
      'profileDigest',
      'path',
    ]);
  });

  it('is strict: an earlier environment without a deployment of the profile refuses', () => {
    const t: Topology = {
      ...topology,
      environments: [
        testEnvironment('test', [
          testDeployment('other', 'standalone', [testNode('o')], { profile: 'other' }),
        ]),
        topology.environments[2] as Topology['environments'][0],
      ],
    };

    const v = gateFor(t, 'prod', keys, new Map());

    expect(v.pass === false && v.gaps.map((g) => g.reason)).toEqual(['no-deployment']);
    expect(() => assertGate(v)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_ROLLOUT_GATE_REFUSED', exitCode: 3 }),
    );
  });

  it('does not gate a deployment with nothing to upgrade', () => {
    const v = gateFor(topology, 'prod', new Map([['app', { ...key, path: [] }]]), new Map());

    expect(v.pass).toBe(true);
  });

  it('refuses an unknown environment with a coded error', () => {
    expect(() => gateFor(topology, 'staging', keys, new Map())).toThrow(
      expect.objectContaining({ code: 'UPLIFT_ROLLOUT_ENV_UNKNOWN' }),
    );
  });
});
