import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { handler as estimate } from './estimate.ts';
import { handler as history } from './history.ts';
import { handler as status } from './status.ts';

const root = mkdtempSync(join(tmpdir(), 'uplift-history-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const good = {
  runId: 'r1',
  kind: 'apply',
  install: '/x',
  from: '1.0',
  to: '1.1',
  outcome: 'committed',
  startedAt: '2025-01-01T00:00:00Z',
  endedAt: '2025-01-01T00:10:00Z',
  hops: [{ hop: 1, from: '1.0', to: '1.1', outcome: 'committed' }],
};

/** An installation whose history.jsonl holds `lines`; the good run is on the last line. */
function installWith(name: string, lines: string[]): { install: string; file: string } {
  const install = join(root, name);
  mkdirSync(install);
  const state = join(root, `.${name}.uplift`);
  mkdirSync(state);
  const file = join(state, 'history.jsonl');
  writeFileSync(file, `${[...lines, JSON.stringify(good)].join('\n')}\n`);
  return { install, file };
}

const bad = ['not json', '{"a":1}', 'null', '42', '{"runId":5,"kind":"apply","hops":"x"}'];

describe('a history.jsonl with lines that are not history entries', () => {
  it('history skips each, warns with its line, and shows the good run', async () => {
    const { install, file } = installWith('h', bad);

    const r = await history({ install });

    expect(r.data).toMatchObject({ runs: [{ runId: 'r1' }] });
    expect(r.warnings).toEqual(bad.map((_, i) => expect.stringContaining(`${file}:${i + 1}: `)));
  });

  it('status shows the last good run, never "undefined"', async () => {
    const { install, file } = installWith('s', [JSON.stringify(good), ...bad]);
    writeFileSync(file, `${[JSON.stringify(good), ...bad].join('\n')}\n`);

    const r = await status({ install });

    expect(r.text).toContain('last finished: apply 1.0 → 1.1, committed');
    expect(r.text).not.toContain('undefined');
    expect(r.warnings).toContainEqual(expect.stringContaining(`${file}:6: `));
  });

  it('estimate --accuracy skips them with the same warnings', async () => {
    const { install, file } = installWith('e', bad);

    const r = await estimate({ install, accuracy: true });

    expect(r.exitCode).toBe(0);
    expect(r.warnings).toContainEqual(expect.stringContaining(`${file}:5: `));
  });
});

describe('status with a journal that is not one', () => {
  it('refuses it naming the journal, instead of saying idle', async () => {
    const { install } = installWith('j', []);
    const journal = join(root, '.j.uplift', 'journal');
    writeFileSync(journal, 'garbage{{{\n');

    const err = await status({ install }).catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: 'UPLIFT_APPLY_JOURNAL_CORRUPT',
      location: { file: expect.stringContaining('.j.uplift') },
    });
  });
});

describe('estimate --learn-from', () => {
  it('refuses a folder that does not exist', async () => {
    const { install } = installWith('l', []);

    const err = await estimate({
      install,
      record: false,
      learnFrom: [join(root, 'nope')],
    }).catch((e: unknown) => e);

    expect(err).toMatchObject({ code: 'UPLIFT_FILE_NOT_FOUND', exitCode: 2 });
  });
});
