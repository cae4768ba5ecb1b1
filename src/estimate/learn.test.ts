import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../apply/index.ts';
import type { Durations } from '../catalog/index.ts';
import { loadProfile } from '../profile/index.ts';
import { accuracyOf, type EstimateRecord } from './accuracy.ts';
import { type HopSample, type LearnInput, learnEstimate, quantile, spreadOf } from './learn.ts';
import { samplesOf } from './samples.ts';
import { hopDurations, volumeFacts } from './volume.ts';

const rows = 'data.fileTrackingRows';

/** Durations as a catalog gives them: migrate scales with rows (60 s per million), the rest fixed. */
const durations = {
  downloadBytesPerSecond: 50_000_000,
  backupNeedsStop: false,
  backup: { seconds: 20 },
  stop: { seconds: 5 },
  apply: { seconds: 30 },
  migrate: { seconds: 5, per: [{ fact: rows, unit: 1_000_000, seconds: 60 }] },
  start: { seconds: 10 },
  validate: { seconds: 300 },
  rollback: { seconds: 30, per: [{ fact: rows, unit: 1_000_000, seconds: 10 }] },
} as unknown as Durations;

const plan: LearnInput['plan'] = {
  steps: [
    {
      kind: 'pack',
      from: '1.0',
      to: '1.1',
      estimate: {
        phases: { download: 1, stop: 5, apply: 30, migrate: 65, start: 10, manual: 0 },
        downtimeSeconds: 110,
      },
    },
  ] as LearnInput['plan']['steps'],
  estimate: {
    packHops: 1,
    manualSteps: 0,
    downloadSeconds: 1,
    backupSeconds: 20,
    downtimeSeconds: 110,
    validationSeconds: 300,
    rollbackSeconds: 40,
    windowSeconds: 450,
    downloadBytes: 50_000_000,
    assumptions: [],
  },
};

function sample(n: number, steps: Record<string, number>, source = `run-${n}`): HopSample {
  const down = ['stop', 'switch', 'migrate', 'start', 'probe'].reduce(
    (t, k) => t + (steps[k] ?? 0),
    0,
  );
  return {
    from: '1.0',
    to: '1.1',
    source,
    at: '2026-01-01T00:00:00.000Z',
    stepSeconds: steps,
    downtimeSeconds: down,
    volume: { [rows]: n },
  };
}

const learn = (samples: HopSample[], target: number) =>
  learnEstimate({ plan, durations: () => durations, volume: { [rows]: target }, samples });

describe('learnEstimate', () => {
  it("keeps the catalog's figures when no run of the hop was measured", () => {
    const e = learn([], 1_000_000);

    expect(e.basis).toEqual({ kind: 'catalog' });
    expect(e.downtime).toEqual({ p50: 110, p90: 165 });
    // Apply's elapsed time: the downtime and the backup before the hop.
    expect(e.total).toEqual({ p50: 130, p90: 195 });
    expect(e.rollback).toEqual({ p50: 40, p90: 60 });
    expect(e.validate).toEqual({ p50: 300, p90: 300 });
    expect(e.phases.find((p) => p.phase === 'migrate')).toEqual({
      phase: 'migrate',
      p50: 65,
      p90: 97.5,
    });
  });

  it('scales a data-scaled step by the volume ratio and keeps fixed steps (one run: p90 = p50 x 1.3)', () => {
    const one = sample(1_000_000, {
      stop: 0.5,
      switch: 0.2,
      migrate: 2,
      start: 0.6,
      probe: 2.2,
      smoke: 0.3,
      backup: 1,
    });

    const e = learn([one], 2_000_000);

    // migrate doubles (2 -> 4); stop, switch, start and probe stay: 0.5 + 0.2 + 4 + 0.6 + 2.2.
    expect(e.downtime).toEqual({ p50: 7.5, p90: 9.75 });
    expect(e.total).toEqual({ p50: 8.8, p90: 11.44 });
    expect(e.phases.find((p) => p.phase === 'migrate')).toEqual({
      phase: 'migrate',
      p50: 4,
      p90: 5.2,
    });
    expect(e.validate.p50).toBe(300.3);
    expect(e.basis).toEqual({ kind: 'measured', runs: 1, scaledBy: 2, from: ['run-1000000'] });
  });

  it('learns the fixed part and the slope from runs at different volumes', () => {
    // migrate = 0.4 s + 1.5 s per million rows, measured at 1 M and 3 M rows.
    const runs = [1, 3].map((m) => sample(m * 1_000_000, { stop: 1, migrate: 0.4 + 1.5 * m }));

    const e = learn(runs, 5_000_000);

    // Each run moved along the slope to 5 M rows lands on 0.4 + 7.5 = 7.9 s of migrate.
    expect(e.phases.find((p) => p.phase === 'migrate')).toEqual({
      phase: 'migrate',
      p50: 7.9,
      p90: 7.9,
    });
    expect(e.downtime).toEqual({ p50: 8.9, p90: 8.9 });
    expect(e.basis).toMatchObject({ kind: 'measured', runs: 2 });
  });

  it('takes p50 and p90 from the spread of several runs', () => {
    const runs = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((s, i) =>
      sample(1_000_000, { stop: s }, `r${i}`),
    );

    const e = learn(runs, 1_000_000);

    expect(e.downtime).toEqual({ p50: 7.5, p90: 11.1 });
    expect(e.basis).toMatchObject({ runs: 10, scaledBy: 1 });
  });

  it('keeps a step unscaled when the volume it scales with is unknown', () => {
    const e = learnEstimate({
      plan,
      durations: () => durations,
      volume: {},
      samples: [sample(1_000_000, { migrate: 2 })],
    });

    expect(e.downtime.p50).toBe(2);
  });

  it('learns the rollback from a measured rollback, scaled', () => {
    const e = learnEstimate({
      plan,
      durations: () => durations,
      volume: { [rows]: 2_000_000 },
      samples: [],
      rollbacks: [
        { from: '1.0', to: '1.1', source: 'rb', at: '', seconds: 3, volume: { [rows]: 1_000_000 } },
      ],
    });

    expect(e.rollback).toEqual({ p50: 6, p90: 7.8 });
  });
});

describe('spread', () => {
  it.each`
    values             | q      | expected
    ${[5]}             | ${0.5} | ${5}
    ${[1, 2, 3, 4]}    | ${0.5} | ${2.5}
    ${[1, 2, 3, 4, 5]} | ${0.9} | ${4.6}
    ${[10, 1, 7]}      | ${0.9} | ${9.4}
  `('quantile($values, $q) = $expected', ({ values, q, expected }) => {
    expect(quantile(values, q)).toBeCloseTo(expected, 9);
  });

  it('gives one value a p90 of 1.3 x', () => {
    expect(spreadOf([10])).toEqual({ p50: 10, p90: 13 });
  });
});

describe('samples and accuracy from history', () => {
  const run = (
    runId: string,
    startedAt: string,
    volume: Record<string, number> | undefined,
  ): HistoryEntry => ({
    runId,
    kind: 'apply',
    install: '/i',
    from: '1.0',
    to: '1.1',
    outcome: 'committed',
    startedAt,
    endedAt: new Date(Date.parse(startedAt) + 20_000).toISOString(),
    hops: [
      {
        hop: 0,
        from: '1.0',
        to: '1.1',
        outcome: 'committed',
        downtimeSeconds: 8,
        stepSeconds: { stop: 1, migrate: 6, probe: 1 },
      },
    ],
    ...(volume ? { volume } : {}),
  });

  it('learns from committed hops that recorded their data volume, and from single-hop rollbacks', () => {
    const history: HistoryEntry[] = [
      run('old', '2026-01-01T00:00:00.000Z', undefined),
      run('a', '2026-01-02T00:00:00.000Z', { [rows]: 10 }),
      {
        ...run('rb', '2026-01-03T00:00:00.000Z', undefined),
        kind: 'rollback',
        hops: [],
        downtimeSeconds: 4,
        undid: { runId: 'a', hop: 0 },
      },
    ];

    const { samples, rollbacks } = samplesOf('/i', history);

    expect(samples.map((s) => s.source)).toEqual(['/i run a']);
    expect(samples[0]?.stepSeconds).toEqual({ stop: 1, migrate: 6, probe: 1 });
    expect(rollbacks).toEqual([
      {
        from: '1.0',
        to: '1.1',
        source: '/i rollback rb',
        at: '2026-01-03T00:00:00.000Z',
        seconds: 4,
        volume: { [rows]: 10 },
      },
    ]);
  });

  it('sets each run beside the newest estimate made before it and after the run before', () => {
    const estimate = (at: string, p50: number): EstimateRecord => ({
      at,
      install: '/i',
      from: '1.0',
      to: '1.1',
      by: 'estimate',
      estimate: {
        ...learn([], 1),
        downtime: { p50, p90: p50 * 1.3 },
        total: { p50: 20, p90: 26 },
      },
    });
    const history = [
      run('a', '2026-01-02T00:00:00.000Z', {}),
      run('b', '2026-01-04T00:00:00.000Z', {}),
    ];
    const estimates = [
      estimate('2026-01-01T00:00:00.000Z', 99),
      estimate('2026-01-01T12:00:00.000Z', 10),
      estimate('2026-01-03T00:00:00.000Z', 6),
    ];

    const rows = accuracyOf(estimates, history);

    expect(
      rows.map((r) => [
        r.runId,
        r.downtime.p50,
        r.downtime.actual,
        r.downtime.errorPercent,
        r.downtime.withinP90,
      ]),
    ).toEqual([
      ['a', 10, 8, 25, true],
      ['b', 6, 8, -25, false],
    ]);
    expect(rows[0]?.total).toMatchObject({ actual: 20, errorPercent: 0 });
  });
});

describe('volumeFacts', () => {
  it("names the facts the catalog's durations scale with, with their values", async () => {
    const profile = await loadProfile('skiff');
    const facts = { data: { fileTrackingRows: 1200, installBytes: 5e6, historyFiles: 3 } };

    const v = volumeFacts(profile.catalog, facts);

    expect(v).toEqual({ 'data.fileTrackingRows': 1200, 'data.installBytes': 5e6 });
    expect(hopDurations(profile.catalog, '5.3.3 GA').migrate.per).toEqual([
      { fact: 'data.fileTrackingRows', unit: 1_000_000, seconds: 240 },
    ]);
  });
});
