import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { handler } from '../cli/commands/plan.ts';
import type { Plan } from '../plan/index.ts';

// picocolors colours output under CI; the marks are read as plain text.
const plain = (s: string) => stripVTControlCharacters(s);

async function views(from: string, to: string) {
  const opts = { profile: 'securetransport', from, to, fact: ['platform.id=linux-x86-64'] };
  const text = await handler({ ...opts, format: 'text' });
  const markdown = await handler({ ...opts, format: 'markdown' });
  return {
    plan: text.data as Plan,
    text: plain(text.text ?? '').split('\n'),
    markdown: (markdown.text ?? '').split('\n'),
  };
}

/** The lines that show `needle`, the banner (which lists entries by name) aside. */
const lineWith = (lines: string[], needle: string) =>
  lines.filter((l) => l.includes(needle) && !/^(> \*\*)?ILLUSTRATIVE:/.test(l));

describe('every securetransport plan view marks what rests on illustrative data', () => {
  it.each`
    from               | to
    ${'5.4 Patch 2'}   | ${'latest'}
    ${'5.4 Patch 2'}   | ${'5.5 GA'}
    ${'5.3.0 Patch 2'} | ${'5.5 GA'}
    ${'5.2.1 SP4'}     | ${'5.4 Patch 35'}
  `('$from → $to: text, Markdown and JSON', async ({ from, to }) => {
    const { plan, text, markdown } = await views(from, to);

    const p = plan.provenance;
    expect(p).toBeDefined();
    if (!p) return;
    // JSON: sourced notes carry their source and no illustrative flag; the others say why.
    for (const e of plan.notes.entries) {
      if (e.source) expect(e.illustrative).toBeUndefined();
      else expect(e).toMatchObject({ illustrative: true, reason: expect.any(String) });
    }
    // Notes: each row is marked exactly when the entry is illustrative.
    for (const e of plan.notes.entries) {
      const rows = lineWith(markdown, `| \`${e.id}\``);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) expect(r.includes('*(illustrative)*')).toBe(e.illustrative === true);
      for (const l of lineWith(text, `(${e.id}, `))
        expect(l.includes('[illustrative]')).toBe(e.illustrative === true);
    }
    // Steps: an illustrative release or pack is marked on its line in both views.
    for (const s of p.steps) {
      const step = plan.steps.find((x) => x.index === s.index);
      if (!step) throw new Error(`no step ${s.index}`);
      if (s.release.length > 0) {
        for (const l of lineWith(text, step.title)) expect(l).toContain('[illustrative]');
        expect(lineWith(markdown, `| ${step.index} | `)[0]).toContain('*(illustrative)*');
      }
      if (s.pack.length > 0 && step.pack)
        for (const l of lineWith(text, `pack ${step.pack.file}`))
          expect(l).toContain('[illustrative]');
    }
    // Estimate: the durations are illustrative, so every time line says so.
    expect(p.estimate.length).toBeGreaterThan(0);
    for (const label of ['download', 'backup', 'downtime', 'validation', 'rollback', 'window'])
      expect(text.find((l) => l.startsWith(`  ${label} `))).toContain('[illustrative]');
    for (const label of ['| download', '| backup', '| downtime', '| validation', '| rollback'])
      expect(markdown.find((l) => l.startsWith(label))).toContain('*(illustrative)*');
    // Banner, in both views.
    expect(text.some((l) => l.startsWith('ILLUSTRATIVE:'))).toBe(true);
    expect(markdown.some((l) => l.startsWith('> **ILLUSTRATIVE:'))).toBe(true);
  });

  it('shows the real 5.4 patch fixes as sourced although their releases are illustrative', async () => {
    const { plan, markdown } = await views('5.3.6 GA', '5.5 GA');

    for (const id of ['RDST-14459', 'RDST-15178']) {
      const entry = plan.notes.entries.find((e) => e.id === id);
      expect(entry).toMatchObject({
        source: { doc: 'securetransport-5.5-release-notes.md' },
      });
      expect(entry?.illustrative).toBeUndefined();
      const row = lineWith(markdown, `| \`${id}\``)[0];
      expect(row).not.toContain('illustrative');
      expect(row).toContain('securetransport-5.5-release-notes.md');
    }
  });

  it('counts as security only the rows of the vendor table', async () => {
    const { plan } = await views('5.2.1 SP8', '5.5 GA');

    expect(
      plan.notes.entries
        .filter((e) => e.security)
        .map((e) => e.id)
        .sort(),
    ).toEqual([
      'RDST-12178',
      'RDST-12181',
      'RDST-14611',
      'RDST-14626',
      'RDST-14908',
      'RDST-19574',
      'RDST-19886',
      'RDST-21584',
      'RDST-30212',
    ]);
  });
});

describe('the headline when --to latest lands on an illustrative release', () => {
  it('says "illustrative target" in text and Markdown, and names it in JSON', async () => {
    const { plan, text, markdown } = await views('5.4 Patch 2', 'latest');

    expect(plan.to).toBe('5.5-20240829');
    expect(plan.provenance?.target).toEqual([
      { entry: 'release 5.5-20240829', reason: expect.stringMatching(/dated 5.5 update/) },
    ]);
    expect(text[0]).toContain('5.4 Patch 2 → 5.5-20240829 (illustrative target)');
    expect(markdown[0]).toContain('→ 5.5-20240829 *(illustrative target)*');
  });

  it('does not when the target is the sourced 5.5 GA', async () => {
    const { plan, text, markdown } = await views('5.4 Patch 2', '5.5 GA');

    expect(plan.provenance?.target).toEqual([]);
    expect(text[0]).not.toContain('illustrative');
    expect(markdown[0]).not.toContain('illustrative');
  });
});
