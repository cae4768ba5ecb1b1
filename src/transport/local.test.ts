import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../util/index.ts';
import { openTransport } from './index.ts';
import type { NodeTransport } from './types.ts';

let d: string;
let t: NodeTransport;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  d = mkdtempSync(join(tmpdir(), 'uplift-local-transport-'));
  t = await openTransport({
    name: 'here',
    nodeRuntime: 'node',
    address: { kind: 'local', path: d },
  });
});

afterAll(() => rmSync(d, { recursive: true, force: true }));

describe('the local transport', () => {
  it('runs argv without a shell, with env and cwd', async () => {
    const r = await t.exec(['sh', '-c', 'pwd; printf "%s|%s" "$1" "$V"', 'sh', '$HOME; echo no'], {
      cwd: d,
      env: { V: 'v' },
    });

    expect(r).toEqual({ code: 0, stdout: `${d}\n$HOME; echo no|v`, stderr: '' });
    expect(t.label).toBe('local');
  });

  it('reads 127 for a missing command and the signal for a killed one', async () => {
    expect((await t.exec(['no-such-command-uplift'])).code).toBe(127);
    expect(await t.exec(['sh', '-c', 'kill -s KILL $$'])).toMatchObject({
      code: null,
      signal: 'SIGKILL',
    });
  });

  it('stops the command and what it started on timeout (UPLIFT_TRANSPORT_TIMEOUT)', async () => {
    const pidFile = join(d, 'bg.pid');

    const run = t.exec(['sh', '-c', `sleep 60 & echo $! > '${pidFile}'; wait`], { timeoutMs: 300 });

    await expect(run).rejects.toMatchObject({ code: 'UPLIFT_TRANSPORT_TIMEOUT' });
    const bg = Number(readFileSync(pidFile, 'utf8'));
    for (let k = 0; k < 40 && isAlive(bg); k++) await sleep(50);
    expect(isAlive(bg)).toBe(false);
  });

  it('stops the command when the signal aborts', async () => {
    const ac = new AbortController();
    const run = t.exec(['sleep', '60'], { signal: ac.signal });

    ac.abort(new Error('enough'));

    await expect(run).rejects.toThrow('enough');
  });

  it('copies through a .part: resumed on a matching prefix, restarted on another, refused on a bad hash', async () => {
    const content = Buffer.from(Array.from({ length: 100_000 }, (_, k) => k % 253));
    const local = join(d, 'src.bin');
    writeFileSync(local, content);
    const resumed = join(d, 'resumed.bin');
    const restarted = join(d, 'restarted.bin');
    writeFileSync(`${resumed}.part`, content.subarray(0, 40_000));
    writeFileSync(`${restarted}.part`, Buffer.alloc(40_000));

    const r1 = await t.putFile(local, resumed, { sha256: sha(content), mode: 0o600 });
    const r2 = await t.putFile(local, restarted, { sha256: sha(content) });
    const bad = t.putFile(local, join(d, 'bad.bin'), { sha256: sha('x') });

    expect(r1).toEqual({ bytes: 60_000, resumedFrom: 40_000 });
    expect(r2).toEqual({ bytes: 100_000, resumedFrom: 0 });
    expect(readFileSync(resumed)).toEqual(content);
    expect((await t.stat(resumed))?.mode).toBe(0o600);
    await expect(bad).rejects.toMatchObject({ code: 'UPLIFT_TRANSPORT_HASH_MISMATCH' });
    expect(existsSync(join(d, 'bad.bin.part'))).toBe(false);
  });

  it('reads, stats, makes folders, renames and removes', async () => {
    await t.mkdirp(join(d, 'x/y/z'));
    writeFileSync(join(d, 'x/y/z/f'), 'f');
    await t.rename(join(d, 'x/y/z/f'), join(d, 'x/g'));

    expect((await t.readFile(join(d, 'x/g')))?.toString()).toBe('f');
    expect(await t.readFile(join(d, 'x/none'))).toBeUndefined();
    expect(await t.stat(join(d, 'x/none'))).toBeUndefined();
    expect((await t.stat(join(d, 'x/y')))?.isDirectory).toBe(true);
    await t.remove(join(d, 'x'));
    expect(existsSync(join(d, 'x'))).toBe(false);
  });
});
