import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapLimit, mapLimitEach } from './map-limit.ts';

describe('mapLimit', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;

    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep(n * 5);
      running--;
      return n * 10;
    });

    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];

    const run = mapLimit([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('two');
      return n;
    });

    await expect(run).rejects.toThrow('two');
    expect(started).toEqual([1, 2]);
  });

  it('refuses a limit below 1', async () => {
    await expect(mapLimit([1], 0, async (n) => n)).rejects.toThrow(/limit/);
  });
});

describe('mapLimitEach', () => {
  it('settles each item as soon as it is done, in any order, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const finished: number[] = [];

    const each = mapLimitEach([30, 1, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await sleep(n);
      running--;
      finished.push(n);
      return n * 10;
    });

    // The short items finish while the first is still under way; each result is there on its own.
    expect(await each[3]).toBe(30);
    expect(finished).toEqual([1, 2, 3]);
    expect(await each[0]).toBe(300);
    expect(await Promise.all(each)).toEqual([300, 10, 20, 30]);
    expect(most).toBe(2);
  });

  it('rejects the failed item and every item not started after it, without unhandled rejections', async () => {
    const started: number[] = [];

    const each = mapLimitEach([1, 2, 3, 4], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('two');
      return n;
    });

    expect(await each[0]).toBe(1);
    await expect(each[1]).rejects.toThrow('two');
    await expect(each[3]).rejects.toThrow('two');
    expect(started).toEqual([1, 2]);
  });
});
