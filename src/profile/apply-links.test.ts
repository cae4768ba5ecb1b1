import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { builtInProfilesDir, readProfileManifest } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-profile-links-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of skiff's profile with `apply.linkUnchangedProgramFiles` set, `paths.config` kept or dropped. */
function skiffWith(name: string, config: boolean): string {
  const p = join(dir, name);
  cpSync(join(builtInProfilesDir, 'skiff'), p, { recursive: true });
  const file = join(p, 'profile.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['apply', 'linkUnchangedProgramFiles'], true);
  if (!config) doc.deleteIn(['paths', 'config']);
  writeFileSync(file, doc.toString());
  return p;
}

describe('apply.linkUnchangedProgramFiles', () => {
  it('is read when the profile names its configuration', async () => {
    const m = await readProfileManifest(skiffWith('with-config', true));
    expect(m.apply?.linkUnchangedProgramFiles).toBe(true);
  });

  it('is refused at its file, line and field without paths.config: every file would be a program file', async () => {
    const p = skiffWith('without-config', false);
    const lines = readFileSync(join(p, 'profile.yaml'), 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('linkUnchangedProgramFiles')) + 1;

    const error = await readProfileManifest(p).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_PROFILE_INVALID',
      message: expect.stringContaining('paths.config is empty'),
      location: {
        file: join(p, 'profile.yaml'),
        path: expect.stringContaining('apply.linkUnchangedProgramFiles'),
        line,
      },
    });
  });
});
