import { describe, expect, it } from 'vitest';
import type { RolloutEvent } from '../../rollout/index.ts';
import { rolloutProgress } from './rollout-progress.ts';

const node = (n: string, state: 'started' | 'ok', seconds?: number): RolloutEvent => ({
  type: 'node',
  env: 'test',
  deployment: 'cluster',
  node: n,
  step: 'stop',
  state,
  ...(seconds === undefined ? {} : { seconds }),
});

describe('rolloutProgress', () => {
  it('writes one plain line per event when standard error is not a terminal', () => {
    const out: string[] = [];
    const show = rolloutProgress({ stderr: (s) => out.push(s), stderrIsTty: false });

    show(node('n1', 'started'));
    show(node('n1', 'ok', 1.5));
    show({ type: 'run', env: 'test', runId: 'r1', outcome: 'passed' });

    expect(out).toEqual([
      'test/cluster/n1: stop started\n',
      'test/cluster/n1: stop ok (1.5 s)\n',
      'test: run r1 passed\n',
    ]);
  });

  it('on a terminal keeps one line per node and rewrites it in place', () => {
    const out: string[] = [];
    const show = rolloutProgress({ stderr: (s) => out.push(s), stderrIsTty: true });

    show(node('n1', 'started'));
    show(node('n2', 'started'));
    show(node('n1', 'ok', 2));

    // The last frame goes back over both lines and draws n1's new state on n1's line.
    expect(out.at(-1)).toBe(
      '\u001b[2F\u001b[2Ktest/cluster/n1: stop ok (2 s)\n\u001b[2Ktest/cluster/n2: stop started\n',
    );
  });
});
