import { getProperties } from 'properties-file';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { UpliftError } from '../errors/index.ts';
import {
  assertMergeInputsUnchanged,
  conflictReport,
  type FileMerge,
  type MergeInput,
  mergeFile,
  mergeInputsDigest,
  unifiedDiff,
} from './index.ts';

const b = (s: string) => Buffer.from(s, 'utf8');
const run = (
  path: string,
  base: string,
  ours: string,
  theirs: string,
  extra: Partial<MergeInput> = {},
) => mergeFile({ path, base: b(base), ours: b(ours), theirs: b(theirs), ...extra });
const out = (m: FileMerge) => m.content?.toString('utf8') ?? '';

describe('properties', () => {
  it('compares keys after unescaping and writes the value into the customer line', () => {
    const m = run(
      'a.properties',
      'greeting=hello\nlong=one,\\\n  two\nmode=fast\n',
      'gr\\u0065eting : hi there\nlong=one,\\\n  two\nmode=fast\n',
      'greeting=hello\nlong=one,\\\n  two,\\\n  three\nmode=safe\n',
    );
    expect(m.outcome).toBe('merged');
    expect(out(m)).toBe('gr\\u0065eting : hi there\nlong=one,\\\n  two,\\\n  three\nmode=safe\n');
    expect(getProperties(out(m))).toEqual({
      greeting: 'hi there',
      long: 'one,two,three',
      mode: 'safe',
    });
  });

  it('merges the key in effect (the last of duplicates) and removes a dropped key with its vendor comment', () => {
    const m = run(
      'a.properties',
      'x=1\n# about y\ny=2\nz=3\n',
      'x=1\n# about y\ny=2\nz=3\nx=5\n',
      'x=1\nz=4\n',
    );
    expect(out(m)).toBe('x=1\nz=4\nx=5\n');
  });

  it('adds a new key after its predecessor in the new vendor file, with its comment', () => {
    const m = run('a.properties', 'a=1\nc=3\n', 'a=10\nc=3\n', 'a=1\n# b is new\nb=2\nc=3\n');
    expect(out(m)).toBe('a=10\n# b is new\nb=2\nc=3\n');
  });
});

describe('yaml', () => {
  it('keeps comments, quoting and untouched lines byte for byte', () => {
    const base =
      'server:\n    host: "localhost"   # loopback only\n    port: 8080\nlimits: {a: 1, b: 2}\n';
    const ours =
      '# customer\nserver:\n    host: "localhost"   # loopback only\n    port: 9090\nlimits: {a: 1, b: 2}\n';
    const theirs =
      'server:\n    host: "localhost"   # loopback only\n    port: 8080\n    tls: true\nlimits: {a: 1, b: 3}\n';
    const m = run('a.yaml', base, ours, theirs);
    expect(m.outcome).toBe('merged');
    expect(out(m)).toContain(
      '# customer\nserver:\n    host: "localhost"   # loopback only\n    port: 9090\n',
    );
    expect(parseYaml(out(m))).toEqual({
      server: { host: 'localhost', port: 9090, tls: true },
      limits: { a: 1, b: 3 },
    });
  });

  it('merges sequences element by element, and conflicts when both change the same element', () => {
    const base = 'ciphers:\n  - A\n  - B\n  - C\n';
    const merged = run(
      'a.yml',
      base,
      'ciphers:\n  - A\n  - B\n  - C\n  - MINE\n',
      'ciphers:\n  - B\n  - C\n',
    );
    expect(parseYaml(out(merged))).toEqual({ ciphers: ['B', 'C', 'MINE'] });
    const clash = run(
      'a.yml',
      base,
      'ciphers:\n  - A\n  - X\n  - C\n',
      'ciphers:\n  - A\n  - Y\n  - C\n',
    );
    expect(clash.outcome).toBe('conflict');
    expect(clash.conflicts[0]?.where).toBe('ciphers');
  });

  it('falls back to a line merge when a side is not YAML, and says so', () => {
    const m = run('a.yaml', 'a: 1\nb: 2\nc: 3\n', 'a: [1\nb: 2\nc: 3\n', 'a: 1\nb: 2\nc: 4\n');
    expect(m.outcome).toBe('merged');
    expect(out(m)).toBe('a: [1\nb: 2\nc: 4\n');
    expect(m.notes.join(' ')).toMatch(/cannot be read as yaml.*line by line/);
  });
});

describe('xml', () => {
  const base = `<?xml version="1.0" encoding="UTF-8"?>
<!-- server.xml -->
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000"/>
    <Connector port="8009" protocol="AJP/1.3"/>
    <Engine name="Catalina" defaultHost="localhost"/>
  </Service>
</Server>
`;

  it('addresses elements by identifying attributes and merges attributes per element', () => {
    const ours = base.replace('connectionTimeout="20000"', 'connectionTimeout="60000"');
    const theirs = base
      .replace('protocol="HTTP/1.1"', 'protocol="org.apache.coyote.http11.Http11NioProtocol"')
      .replace('    <Connector port="8009" protocol="AJP/1.3"/>\n', '')
      .replace(
        '<Engine name="Catalina"',
        '<Connector port="8443" SSLEnabled="true"/>\n    <Engine name="Catalina"',
      );
    const m = run('conf/server.xml', base, ours, theirs);
    expect(m.outcome).toBe('merged');
    expect(out(m)).toBe(theirs.replace('connectionTimeout="20000"', 'connectionTimeout="60000"'));
    expect(m.notes).toContain(
      "/Server/Service[@name='Catalina']/Connector[@port='8009']: removed by the new version",
    );
  });

  it('reports a conflict by XPath and keeps the customer value in the proposed file', () => {
    const m = run(
      'conf/server.xml',
      base,
      base.replace('defaultHost="localhost"', 'defaultHost="mft"'),
      base.replace('defaultHost="localhost"', 'defaultHost="example"'),
    );
    expect(m.outcome).toBe('conflict');
    expect(m.conflicts[0]).toMatchObject({
      where: "/Server/Service[@name='Catalina']/Engine[@name='Catalina']/@defaultHost",
      base: 'localhost',
      ours: 'mft',
      theirs: 'example',
    });
    expect(out(m)).toContain('defaultHost="mft"');
  });
});

describe('json', () => {
  it('merges arrays by element and keeps tab indentation', () => {
    const m = run(
      'a.json',
      '{\n\t"hosts": ["a", "b"],\n\t"x": 1\n}\n',
      '{\n\t"hosts": ["a", "b", "mine"],\n\t"x": 1\n}\n',
      '{\n\t"hosts": ["a", "b"],\n\t"x": 2,\n\t"y": {"z": true}\n}\n',
    );
    expect(out(m)).toBe('{\n\t"hosts": ["a", "b", "mine"],\n\t"x": 2,\n\t"y": {"z": true}\n}\n');
  });
});

describe('conflict policy', () => {
  it('settles a conflict per key as the profile says, and stops for the rest', () => {
    const base = 'a=1\nb=1\nc=1\n';
    const ours = 'a=2\nb=2\nc=2\n';
    const theirs = 'a=3\nb=3\nc=3\n';
    const m = run('x.properties', base, ours, theirs, {
      policy: [
        { key: 'a', resolve: 'theirs' },
        { key: 'b*', resolve: 'ours' },
      ],
    });
    expect(m.outcome).toBe('conflict');
    expect(m.conflicts.map((c) => c.where)).toEqual(['c']);
    expect(getProperties(out(m))).toEqual({ a: '3', b: '2', c: '2' });
    expect(m.notes.join('\n')).toMatch(/^a: .*the new version's value$/m);
  });
});

describe('reports, diffs and cutover re-validation', () => {
  it('writes a conflict report naming file, place and the three values', () => {
    const m = run('conf/x.properties', 'port=1\n', 'port=2\n', 'port=3\n');
    expect(conflictReport([m])).toBe(
      'conf/x.properties: 1 conflict (properties)\n' +
        '  port: port: the customer changed 1 to 2 and the new version changes it to 3\n' +
        '    old version: 1\n    customer:    2\n    new version: 3\n' +
        "  proposed file: the vendor's other changes applied, the customer's value kept at each conflict; the new version's file is conf/x.properties.new\n",
    );
    expect(conflictReport([run('a.txt', 'x\n', 'x\n', 'y\n')])).toBe('');
  });

  it('gives unified diffs, one line for binary files, nothing for equal files', () => {
    expect(unifiedDiff('a.txt', b('x\ny\n'), b('x\nz\n'))).toBe(
      '--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n',
    );
    expect(unifiedDiff('a.txt', null, b('x\n'))).toMatch(/^--- \/dev\/null\n\+\+\+ b\/a.txt\n/);
    expect(unifiedDiff('k.jks', b('a'), Buffer.from([0, 1]))).toBe(
      'Binary files a/k.jks and b/k.jks differ\n',
    );
    expect(unifiedDiff('a.txt', b('x'), b('x'))).toBe('');
  });

  it('refuses a staged merge whose inputs changed before cutover', () => {
    const input = {
      path: 'conf/a.properties',
      base: b('a=1\n'),
      ours: b('a=2\n'),
      theirs: b('a=1\nb=1\n'),
    };
    const digest = mergeInputsDigest(input);
    expect(() => assertMergeInputsUnchanged(input, digest)).not.toThrow();
    const edited = { ...input, ours: b('a=3\n') };
    expect(() => assertMergeInputsUnchanged(edited, digest)).toThrow(
      expect.objectContaining({ code: 'UPLIFT_MERGE_STALE' }) as UpliftError,
    );
    expect(mergeInputsDigest({ ...input, base: null })).not.toBe(digest);
  });
});
