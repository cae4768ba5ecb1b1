import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from '../../test/util/run-cli.ts';
import { parseCatalog } from '../catalog/load.ts';
import { handler } from '../cli/commands/plan.ts';
import { renderPlanText } from '../cli/ui/render-plan.ts';
import { assemblePlan, type Plan } from '../plan/index.ts';
import { renderPlanMarkdown } from './markdown.ts';

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

describe('a plan whose outcome rests on an illustrative detection input', () => {
  // The documented layout, whose java.security differs from the invented stock TLS list.
  const install = join(
    import.meta.dirname,
    '../../test/fixtures/securetransport-install/SecureTransport',
  );
  const incompatibility = 'java-security-disabled-algorithms';
  const title = 'Disabled algorithms in java.security are not kept';

  it('marks the "customized" incompatibility, its reason and the verdict in text, Markdown and JSON', async () => {
    const opts = { install, to: '5.5 GA', fact: [] };

    const text = await handler({ ...opts, format: 'text' });
    const markdown = await handler({ ...opts, format: 'markdown' });

    const plan = text.data as Plan;
    const p = plan.provenance;
    expect(plan.incompatibilities.find((i) => i.id === incompatibility)?.outcome).toBe('applies');
    expect(p?.facts).toContainEqual({
      fact: 'security.javaSecurityCustomized',
      reason: expect.stringMatching(/stock/),
    });
    expect(p?.incompatibilities).toContainEqual({
      id: incompatibility,
      reason: expect.stringMatching(/security.javaSecurityCustomized/),
    });
    expect(p?.verdict.map((r) => r.entry)).toContain('fact security.javaSecurityCustomized');
    const lines = plain(text.text ?? '').split('\n');
    const md = (markdown.text ?? '').split('\n');
    // The incompatibility's line and the reason for the verdict that quotes it.
    expect(lineWith(lines, title).length).toBeGreaterThanOrEqual(2);
    for (const l of lineWith(lines, title)) expect(l).toContain('[illustrative]');
    expect(lineWith(md, title).length).toBeGreaterThanOrEqual(2);
    for (const l of lineWith(md, title)) expect(l).toContain('*(illustrative)*');
    // A sourced incompatibility that rests on no fact stays unmarked.
    for (const l of lineWith(lines, 'Transaction Manager is not started automatically'))
      expect(l).not.toContain('illustrative');
    expect(lines.find((l) => l.startsWith('ILLUSTRATIVE:'))).toMatch(/verdict/);
    expect(md.find((l) => l.startsWith('> **ILLUSTRATIVE:'))).toMatch(
      /fact security\.javaSecurityCustomized/,
    );
  });
});

describe('a fact the operator states', () => {
  it('is no longer marked: --fact over the detected "java.security customized"', async () => {
    const install = join(
      import.meta.dirname,
      '../../test/fixtures/securetransport-install/SecureTransport',
    );

    const r = await handler({
      install,
      to: '5.5 GA',
      fact: ['security.javaSecurityCustomized=true'],
      format: 'text',
    });

    const p = (r.data as Plan).provenance;
    expect(p?.facts?.map((f) => f.fact)).toEqual(['version']);
    expect(p?.incompatibilities.map((i) => i.id)).not.toContain(
      'java-security-disabled-algorithms',
    );
  });
});

describe('a path through an illustrative upgrade rule', () => {
  const catalog = (stop: string) =>
    [
      'catalog: 1',
      'product: demo',
      'title: Demo',
      'versionScheme: dotted-patch',
      'releases:',
      '  - { version: 1.0 GA, kind: ga, source: { doc: notes.md, section: "1.0" } }',
      '  - { version: 1.1 GA, kind: ga, source: { doc: notes.md, section: "1.1" } }',
      '  - { version: 1.2 GA, kind: ga, source: { doc: notes.md, section: "1.2" } }',
      'upgrade:',
      '  requiredStops:',
      `    - { release: "1.1", take: ga, ${stop} }`,
      'durations:',
      '  source: { doc: guide.md, section: Timings }',
      '  downloadBytesPerSecond: 1000000',
      ...['backup', 'stop', 'apply', 'migrate', 'start', 'validate', 'rollback'].map(
        (phase) => `  ${phase}: { seconds: 60 }`,
      ),
      '',
    ].join('\n');
  const planOf = (stop: string) =>
    assemblePlan({
      profile: 'demo',
      catalog: parseCatalog(catalog(stop), 'demo/catalog.yaml'),
      facts: { platform: { id: 'linux-x86-64' } },
      from: '1.0 GA',
      to: '1.2 GA',
    });

  it('names the rule in plan.provenance, marks its step and shows the banner in text and Markdown', () => {
    const plan = planOf('illustrative: true, illustrativeReason: the demo vendor never said so');

    const text = plain(renderPlanText(plan)).split('\n');
    const markdown = renderPlanMarkdown(plan).split('\n');

    const rule = { entry: 'required stop 1.1 GA', reason: 'the demo vendor never said so' };
    expect(plan.provenance?.path).toEqual([rule]);
    expect(plan.provenance?.verdict).toContainEqual(rule);
    expect(plan.provenance?.steps).toEqual([
      { index: 1, release: [], pack: [], durations: [], rule: [rule] },
    ]);
    expect(text.find((l) => l.startsWith('ILLUSTRATIVE:'))).toMatch(/the path, verdict/);
    expect(markdown.find((l) => l.startsWith('> **ILLUSTRATIVE:'))).toContain(
      'required stop 1.1 GA',
    );
    expect(lineWith(text, 'Upgrade 1.0 GA → 1.1 GA')[0]).toContain('[illustrative]');
    expect(lineWith(text, 'Upgrade 1.1 GA → 1.2 GA')[0]).not.toContain('[illustrative]');
    expect(lineWith(markdown, '| 1 | ')[0]).toContain('*(illustrative)*');
  });

  it('shows no banner when the rule names its source', () => {
    const plan = planOf('source: { doc: guide.md, section: Paths }');

    expect(plan.provenance?.path).toEqual([]);
    expect(plain(renderPlanText(plan))).not.toContain('ILLUSTRATIVE');
  });
});

describe('a manual step whose time is illustrative', () => {
  const catalog = (minutes: string) =>
    [
      'catalog: 1',
      'product: demo',
      'title: Demo',
      'versionScheme: dotted-patch',
      'releases:',
      '  - { version: 0.9 GA, kind: ga, source: { doc: notes.md, section: "0.9" } }',
      '  - { version: 1.0 GA, kind: ga, source: { doc: notes.md, section: "1.0" } }',
      'upgrade:',
      '  blocked:',
      '    - { from: 0.9 GA, to: "1.0", reason: remove it first, source: { doc: guide.md, section: Reinstall } }',
      '  manualSteps:',
      '    - id: reinstall',
      '      source: { doc: guide.md, section: Reinstall }',
      '      title: Reinstall',
      '      from: 0.9 GA',
      '      continueAt: 1.0 GA',
      '      minutes: 90',
      ...minutes.split('\n').map((l) => (l ? `      ${l}` : l)),
      'durations:',
      '  source: { doc: guide.md, section: Timings }',
      '  downloadBytesPerSecond: 1000000',
      ...['backup', 'stop', 'apply', 'migrate', 'start', 'validate', 'rollback'].map(
        (phase) => `  ${phase}: { seconds: 60 }`,
      ),
      '',
    ].join('\n');
  const planOf = (minutes: string) =>
    assemblePlan({
      profile: 'demo',
      catalog: parseCatalog(catalog(minutes), 'demo/catalog.yaml'),
      facts: { platform: { id: 'linux-x86-64' } },
      from: '0.9 GA',
      to: '1.0 GA',
    });

  it('marks the estimate though the step itself is sourced', () => {
    const plan = planOf(
      'minutesProvenance: { illustrative: true, reason: the guide gives no time for it }',
    );

    const minutes = {
      entry: 'minutes of manual step reinstall',
      reason: 'the guide gives no time for it',
    };
    expect(plan.provenance?.estimate).toContainEqual(minutes);
    expect(plan.provenance?.path).toEqual([]);
    expect(
      plain(renderPlanText(plan))
        .split('\n')
        .find((l) => l.startsWith('ILLUSTRATIVE:')),
    ).toMatch(/estimate/);
  });

  it('takes the source of the step when the minutes name none', () => {
    const plan = planOf('');

    expect(plan.provenance?.estimate).toEqual([]);
    expect(plain(renderPlanText(plan))).not.toContain('ILLUSTRATIVE');
  });

  it('refuses minutesProvenance with neither a source nor a reason for illustrative', () => {
    expect(() => planOf('minutesProvenance: { illustrative: true }')).toThrow(
      expect.objectContaining({ code: 'UPLIFT_CATALOG_INVALID' }),
    );
  });
});

describe('marks on wrapped text', () => {
  const args = ['plan', '--profile', 'securetransport', '--from', '5.4 Patch 2', '--to', 'latest'];
  const marks = (s: string) => s.split('[illustrative]').length - 1;
  /** The first line of every item a mark may sit on, as the text view prints them. */
  const itemStart =
    /^(\s+\d+\. |\s{2}(download|backup|downtime|validation|rollback|window) |\s{2}(BLOCKING|ACTION|INFO|VIOLATED|UNKNOWN|ok)\s|\s{2}\[(check [^\]]+|by hand)\] |\s{2}(concerns you|unknown|security)\s|\s{6}\[illustrative\] pack\b|\[illustrative\] \d+ hops?)/;

  it('keeps each [illustrative] on the first line of its item at --width 60', async () => {
    const run = async (width: string) =>
      plain(
        (await runCliInProcess([...args, '--fact', 'platform.id=linux-x86-64', '--width', width]))
          .stdout,
      );

    const narrow = await run('60');
    const wide = await run('1000');

    expect(marks(narrow)).toBeGreaterThan(10);
    expect(marks(narrow)).toBe(marks(wide));
    const marked = narrow.split('\n').filter((l) => l.includes('[illustrative]'));
    for (const l of marked) expect(l).toMatch(itemStart);
    expect(narrow.split('\n').every((l) => l.length <= 60)).toBe(true);
  });
});
