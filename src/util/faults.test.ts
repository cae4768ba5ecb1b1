import { afterEach, describe, expect, it, vi } from 'vitest';
import { crashPoint, currentTime, setFaults } from './index.ts';

afterEach(() => {
  setFaults({});
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('faults', () => {
  it('currentTime is the clock until a time is injected, and the clock again after setFaults({})', () => {
    vi.useFakeTimers({ now: new Date('2031-05-06T07:08:09Z') });
    const clock = currentTime();
    setFaults({ now: new Date('2001-01-01T00:00:00Z') });
    const injected = currentTime();
    setFaults({});

    expect(clock.toISOString()).toBe('2031-05-06T07:08:09.000Z');
    expect(injected.toISOString()).toBe('2001-01-01T00:00:00.000Z');
    expect(currentTime().toISOString()).toBe('2031-05-06T07:08:09.000Z');
  });

  it('keeps its own copy of the injected time: changing the caller’s Date or the result moves nothing', () => {
    const now = new Date('2001-01-01T00:00:00Z');
    setFaults({ now });

    now.setUTCFullYear(1999);
    currentTime().setUTCFullYear(1998);

    expect(currentTime().toISOString()).toBe('2001-01-01T00:00:00.000Z');
  });

  it('ignores UPLIFT_TEST_NOW and UPLIFT_TEST_CRASH_AT in the environment', () => {
    vi.useFakeTimers({ now: new Date('2031-05-06T07:08:09Z') });
    vi.stubEnv('UPLIFT_TEST_NOW', '2001-01-01T00:00:00Z');
    vi.stubEnv('UPLIFT_TEST_CRASH_AT', 'env-point');
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);

    crashPoint('env-point');

    expect(currentTime().toISOString()).toBe('2031-05-06T07:08:09.000Z');
    expect(kill).not.toHaveBeenCalled();
  });

  it('kills the process with SIGKILL at the injected crash point only', () => {
    const kill = vi.spyOn(process, 'kill').mockImplementation(() => true);
    setFaults({ crashAt: 'stage:done' });

    crashPoint('stage:begin');
    crashPoint('stage:done');

    expect(kill).toHaveBeenCalledTimes(1);
    expect(kill).toHaveBeenCalledWith(process.pid, 'SIGKILL');
  });
});
