import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReleaseInfo } from './release.ts';
import { dataFolders, loadServerSettings, parseProperties } from './settings.ts';
import { featuresFor } from './versions.ts';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function home(skiff: string, security = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-settings-'));
  homes.push(dir);
  mkdirSync(join(dir, 'conf'));
  writeFileSync(join(dir, 'conf/skiff.properties'), skiff);
  writeFileSync(join(dir, 'conf/security.properties'), security);
  return dir;
}

const release = (version: string): ReleaseInfo => ({
  product: 'skiff',
  version,
  date: '2024-01-01',
  features: featuresFor(version),
});

describe('settings', () => {
  it('keeps uploads in data/ (partials in var/tmp) unless data.dir names a folder, absolute or relative', () => {
    const plain = home('http.port=0\n');
    const shared = home('data.dir=/mnt/shared/skiff\n');
    const relative = home('data.dir=../store\n');

    expect(dataFolders(plain)).toEqual({
      dataDir: join(plain, 'data'),
      partialDir: join(plain, 'var/tmp'),
    });
    expect(loadServerSettings(shared, release('5.5 GA'))).toMatchObject({
      dataDir: '/mnt/shared/skiff',
      partialDir: '/mnt/shared/skiff/.partial',
    });
    expect(dataFolders(relative).dataDir).toBe(join(relative, '../store'));
  });

  it('reads properties with = or :, comments and blanks', () => {
    const p = parseProperties('# c\n! c\n a = 1 \nb:2\nDirect.Connection.When.Proxy.Down=true\n');

    expect(Object.fromEntries(p)).toEqual({
      a: '1',
      b: '2',
      'Direct.Connection.When.Proxy.Down': 'true',
    });
  });

  it('lets HTTP_PORT of start-script.conf win over http.port', () => {
    const h = home('http.port=8080\n');

    expect(loadServerSettings(h, release('5.3.0 Patch 1'), {}).port).toBe(8080);
    expect(loadServerSettings(h, release('5.3.0 Patch 1'), { SKIFF_HTTP_PORT: '9090' }).port).toBe(
      9090,
    );
    expect(() => loadServerSettings(h, release('5.3.0 Patch 1'), { SKIFF_HTTP_PORT: 'x' })).toThrow(
      /HTTP_PORT/,
    );
  });

  it('uses the version default TLS protocols and ciphers unless security.properties sets them', () => {
    const h = home('tls.enabled=true\n');
    const custom = home('tls.enabled=true\n', 'tls.protocols=TLSv1.2\ntls.ciphers=AES256-SHA\n');

    expect(loadServerSettings(h, release('5.4 Patch 2'), {}).tls).toMatchObject({
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.3',
    });
    expect(loadServerSettings(h, release('5.5 GA'), {}).tls).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    });
    expect(loadServerSettings(custom, release('5.5 GA'), {}).tls).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'AES256-SHA',
    });
  });

  it('refuses TLSv1.1 from 5.5 GA on', () => {
    const h = home('tls.enabled=true\n', 'tls.protocols=TLSv1.1,TLSv1.2\n');

    expect(loadServerSettings(h, release('5.4 Patch 2'), {}).tls?.minVersion).toBe('TLSv1.1');
    expect(() => loadServerSettings(h, release('5.5 GA'), {})).toThrow(
      /tls.protocols: skiff 5.5 GA does not support "TLSv1.1"/,
    );
  });

  it.each`
    version          | direct                                         | fallback
    ${'5.4 Patch 2'} | ${''}                                          | ${true}
    ${'5.4 Patch 2'} | ${'Direct.Connection.When.Proxy.Down=false\n'} | ${true}
    ${'5.5 GA'}      | ${''}                                          | ${false}
    ${'5.5 GA'}      | ${'Direct.Connection.When.Proxy.Down=false\n'} | ${false}
    ${'5.5 GA'}      | ${'Direct.Connection.When.Proxy.Down=true\n'}  | ${true}
  `(
    '$version with "$direct" falls back to direct connections: $fallback',
    ({ version, direct, fallback }) => {
      const h = home(`proxy.host=127.0.0.1\nproxy.port=3128\n${direct}`);

      expect(loadServerSettings(h, release(version), {}).outbound).toEqual({
        proxy: { host: '127.0.0.1', port: 3128 },
        directWhenProxyDown: fallback,
      });
    },
  );

  it('refuses a database type it does not have', () => {
    expect(() => loadServerSettings(home('db.type=postgresql\n'), release('5.4 GA'), {})).toThrow(
      /db.type=postgresql/,
    );
  });
});
