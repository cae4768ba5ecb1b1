import { describe, expect, it } from 'vitest';
import { featuresFor, findRelease, isAtLeast, listReleases, releaseSlug } from './versions.ts';

describe('versions', () => {
  it('lists every release of the catalog', () => {
    const versions = listReleases().map((r) => r.version);

    expect(versions).toContain('5.3.0 Patch 1');
    expect(versions).toContain('5.5 GA');
    expect(versions.length).toBeGreaterThanOrEqual(11);
  });

  it.each`
    version            | slug
    ${'5.3.0 Patch 1'} | ${'5.3.0-Patch-1'}
    ${'5.4 GA'}        | ${'5.4-GA'}
    ${'5.2.1 SP9'}     | ${'5.2.1-SP9'}
  `('slugs $version as $slug', ({ version, slug }) => {
    expect(releaseSlug(version)).toBe(slug);
  });

  it.each`
    a                  | b                  | atLeast
    ${'5.3.0 Patch 2'} | ${'5.3.0 Patch 1'} | ${true}
    ${'5.3.0 Patch 2'} | ${'5.3.3 GA'}      | ${false}
    ${'5.4 GA'}        | ${'5.3.6 GA'}      | ${true}
    ${'5.4 Patch 2'}   | ${'5.5 GA'}        | ${false}
    ${'5.5 GA'}        | ${'5.5 GA'}        | ${true}
    ${'5.2.1 SP9'}     | ${'5.3.0 GA'}      | ${false}
  `('$a is at least $b: $atLeast', ({ a, b, atLeast }) => {
    expect(isAtLeast(a, b)).toBe(atLeast);
  });

  it.each`
    version            | table              | jobs                | fallback          | schedulerProcess
    ${'5.2.1 SP8'}     | ${'transfers'}     | ${'crontab'}        | ${'always'}       | ${false}
    ${'5.3.0 Patch 2'} | ${'transfers'}     | ${'crontab'}        | ${'always'}       | ${false}
    ${'5.3.3 GA'}      | ${'file_tracking'} | ${'crontab'}        | ${'always'}       | ${false}
    ${'5.4 GA'}        | ${'file_tracking'} | ${'crontab'}        | ${'always'}       | ${true}
    ${'5.4 Patch 2'}   | ${'file_tracking'} | ${'crontab'}        | ${'always'}       | ${true}
    ${'5.5 GA'}        | ${'file_tracking'} | ${'scheduler.yaml'} | ${'when-enabled'} | ${true}
  `('$version: $table, jobs from $jobs, proxy fallback $fallback', (row) => {
    const f = featuresFor(row.version);

    expect(f.trackingTable).toBe(row.table);
    expect(f.jobsFrom).toBe(row.jobs);
    expect(f.proxyDirectFallback).toBe(row.fallback);
    expect(f.schedulerProcess).toBe(row.schedulerProcess);
  });

  it('drops TLSv1.1 and the weak ciphers from the defaults in 5.5 GA', () => {
    const before = featuresFor('5.4 Patch 2').tls;
    const after = featuresFor('5.5 GA').tls;

    expect(before.protocols).toEqual(['TLSv1.1', 'TLSv1.2', 'TLSv1.3']);
    expect(after.protocols).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(after.unsupportedProtocols).toContain('TLSv1.1');
    expect(before.ciphers).toContain('DES-CBC3-SHA');
    expect(after.ciphers).not.toContain('DES-CBC3-SHA');
  });

  it('has start-script.conf from 5.3.0 GA on', () => {
    expect(featuresFor('5.2.1 SP9').startScriptConf).toBe(false);
    expect(featuresFor('5.3.0 GA').startScriptConf).toBe(true);
  });

  it('rejects a version the catalog does not have', () => {
    expect(() => findRelease('5.9 GA')).toThrow(
      expect.objectContaining({ code: 'SKIFF_UNKNOWN_VERSION' }),
    );
  });
});
