import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileDurably } from './durable.ts';

/** A pid that surely belongs to no live process: one that just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('writeFileDurably', () => {
  it("removes the temp file a writer killed mid-write left, and keeps a live writer's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uplift-durable-'));
    const file = join(dir, 'journal.json');
    const dead = `.journal.json.tmp-${deadPid()}`;
    const live = `.journal.json.tmp-${process.ppid}`;
    writeFileSync(join(dir, dead), '{"half');
    writeFileSync(join(dir, live), '{"being written');

    await writeFileDurably(file, '{"state":"staged"}\n');

    expect(readFileSync(file, 'utf8')).toBe('{"state":"staged"}\n');
    expect(readdirSync(dir).sort()).toEqual([live, 'journal.json']);
  });
});
