import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processStart, readBootId } from './process.ts';
import { acquireProcessLock, parseLock, releaseProcessLock, staleReason } from './process-lock.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'uplift-lock-'));
  file = join(dir, 'state', 'lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const options = {
  command: 'test',
  locked: (held: { pid: number }) => new Error(`held by ${held.pid}`),
  busy: () => new Error('busy'),
};

/** A lock as another process would have written it. */
async function writeLock(fields: Record<string, unknown>): Promise<void> {
  await acquireProcessLock(file, options); // creates the folder
  await writeFile(file, `${JSON.stringify({ startedAt: '2026-11-27T00:00:00Z', ...fields })}\n`);
}

describe('acquireProcessLock', () => {
  it('writes pid, boot id, start time and process start, and releases only its own lock', async () => {
    const { lock, recovered } = await acquireProcessLock(file, { ...options, runId: 'r1' });

    expect(recovered).toBeUndefined();
    expect(parseLock(await readFile(file, 'utf8'))).toEqual(lock);
    expect(lock).toMatchObject({
      pid: process.pid,
      bootId: readBootId(),
      processStart: processStart(process.pid),
      command: 'test',
      runId: 'r1',
    });
    expect(await readdir(join(dir, 'state'))).toEqual(['lock']);

    await releaseProcessLock(file);
    expect(await readdir(join(dir, 'state'))).toEqual([]);
  });

  it('refuses while a live process of this boot holds it, and leaves its lock alone', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid as number;
      await writeLock({ pid, bootId: readBootId(), processStart: processStart(pid) });
      const before = await readFile(file, 'utf8');

      await expect(acquireProcessLock(file, options)).rejects.toThrow(`held by ${pid}`);
      await releaseProcessLock(file);

      expect(await readFile(file, 'utf8')).toBe(before);
    } finally {
      other.kill();
    }
  });

  it.each([
    ['its pid is gone', async () => ({ pid: 2 ** 22 + 17, bootId: readBootId() }), /is gone/],
    [
      'the machine rebooted since',
      async () => ({ pid: process.pid, bootId: 'an-earlier-boot' }),
      /rebooted/,
    ],
    [
      'its pid now belongs to another process',
      async () => ({ pid: process.pid, processStart: (processStart(process.pid) ?? 0) + 1 }),
      /now another process/,
    ],
    ['it cannot be read', async () => ({ pid: 'x' }), /cannot be read/],
  ])('takes over a lock when %s, keeping the old one aside', async (_why, fields, reason) => {
    await writeLock(await fields());
    const old = await readFile(file, 'utf8');

    const { lock, recovered } = await acquireProcessLock(file, options);

    expect(lock.pid).toBe(process.pid);
    expect(recovered?.reason).toMatch(reason);
    expect(await readFile(recovered?.keptAs as string, 'utf8')).toBe(old);
  });
});

describe('staleReason', () => {
  it('is undefined for the running process itself', () => {
    expect(
      staleReason({
        pid: process.pid,
        bootId: readBootId(),
        startedAt: '',
        processStart: processStart(process.pid),
      }),
    ).toBeUndefined();
  });
});
