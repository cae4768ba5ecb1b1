import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../bench/random.ts';
import { mergeText } from './text.ts';

/**
 * Oracle: the line merge against `git merge-file -p --diff3` on a generated corpus. Base files have
 * distinct lines (so every diff has one best alignment); each side makes one to three edits
 * (replace, delete, insert) at random places, sometimes the same edit as the other side.
 */

const dir = mkdtempSync(join(tmpdir(), 'uplift-merge-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const labels = { ours: 'ours', base: 'base', theirs: 'theirs' };

function gitMergeFile(
  base: string,
  ours: string,
  theirs: string,
): { text: string; conflicts: number } {
  const [o, b, t] = ['ours', 'base', 'theirs'].map((n) => join(dir, n)) as [string, string, string];
  writeFileSync(o, ours);
  writeFileSync(b, base);
  writeFileSync(t, theirs);
  try {
    const text = execFileSync(
      'git',
      ['merge-file', '-p', '--diff3', '-L', 'ours', '-L', 'base', '-L', 'theirs', o, b, t],
      { encoding: 'utf8' },
    );
    return { text, conflicts: 0 };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    if (err.status > 0 && err.status < 128) return { text: err.stdout, conflicts: err.status };
    throw e;
  }
}

function edit(lines: string[], random: () => number, tag: string, edits: number): string[] {
  const out = [...lines];
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * out.length);
    const kind = random();
    if (kind < 0.4) out[at] = `${tag}-changed-${i}`;
    else if (kind < 0.7 && out.length > 2) out.splice(at, 1);
    else out.splice(at, 0, `${tag}-inserted-${i}`);
  }
  return out;
}

interface Case {
  base: string;
  ours: string;
  theirs: string;
}

function corpus(count: number, seed: number): Case[] {
  const random = createRandom(seed);
  const cases: Case[] = [];
  for (let n = 0; n < count; n++) {
    const base = Array.from({ length: 8 + Math.floor(random() * 20) }, (_, i) => `line ${i}`);
    const ours = edit(base, random, 'ours', 1 + Math.floor(random() * 3));
    // A fifth of the cases: the vendor made the same change as the customer (a false conflict).
    const theirs =
      random() < 0.2 ? [...ours] : edit(base, random, 'theirs', 1 + Math.floor(random() * 3));
    const text = (lines: string[]) => `${lines.join('\n')}\n`;
    cases.push({ base: text(base), ours: text(ours), theirs: text(theirs) });
  }
  return cases;
}

describe('text merge against git merge-file', () => {
  const cases = corpus(200, 20240605);

  it('gives the bytes git gives, conflict markers included', () => {
    let clean = 0;
    let conflicted = 0;
    for (const c of cases) {
      const git = gitMergeFile(c.base, c.ours, c.theirs);
      const ours = mergeText(c.base, c.ours, c.theirs, labels);
      expect(ours.conflicts.length > 0, JSON.stringify(c)).toBe(git.conflicts > 0);
      expect(ours.text, JSON.stringify(c)).toBe(git.text);
      expect(ours.conflicts.length, JSON.stringify(c)).toBe(git.conflicts);
      if (git.conflicts === 0) clean++;
      else conflicted++;
    }
    // The corpus exercises both kinds of result.
    expect(clean).toBeGreaterThan(40);
    expect(conflicted).toBeGreaterThan(40);
  });

  it('is idempotent on every clean merge', () => {
    for (const c of cases) {
      const first = mergeText(c.base, c.ours, c.theirs);
      if (first.conflicts.length > 0) continue;
      expect(mergeText(c.base, first.text, c.theirs).text).toBe(first.text);
    }
  });

  it('names the conflicting lines of the customer file', () => {
    const m = mergeText('a\nb\nc\nd\n', 'a\nB1\nB2\nc\nd\n', 'a\nX\nc\nd\n');
    expect(m.conflicts).toEqual([
      expect.objectContaining({ where: 'lines 2-3', base: 'b', ours: 'B1\nB2', theirs: 'X' }),
    ]);
  });
});
