import { DOMParser } from '@xmldom/xmldom';
import { getProperties } from 'properties-file';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type FileMerge, formatOf, type MergeFormat, mergeFile } from './index.ts';

/**
 * The C.7 matrix: every format × every case. Each format has the same four settings (host, port,
 * mode, timeout); the customer changes port (with a comment of their own), the vendor changes mode
 * and adds timeout, or, for a conflict, changes port too.
 */
interface Fixture {
  path: string;
  format: MergeFormat;
  base: string;
  /** The customer's file: port 9090 and a comment "our port". */
  ours: string;
  /** The new vendor file: mode safe, timeout 30 added. */
  theirs: string;
  /** The new vendor file changing port to 8081 (a conflict with the customer's 9090). */
  theirsClash: string;
  /** Text only the customer's layout has (their comment; for JSON, their 4-space indentation). */
  layoutMark?: string;
  /** The settings a file holds, read the way the product reads them; throws when it is malformed. */
  read(text: string): Record<string, string>;
}

const fixtures: Fixture[] = [
  {
    path: 'conf/server.properties',
    format: 'properties',
    base: '# server settings\nhost=localhost\nport=8080\nmode=fast\n',
    ours: '# server settings\nhost=localhost\n# our port\nport = 9090\nmode=fast\n',
    theirs: '# server settings\nhost=localhost\nport=8080\nmode=safe\n# seconds\ntimeout=30\n',
    theirsClash: '# server settings\nhost=localhost\nport=8081\nmode=fast\n',
    read: (t) => getProperties(t),
  },
  {
    path: 'conf/start-script.conf',
    format: 'properties',
    base: '# start settings\nHOST=localhost\nPORT=8080\nMODE=fast\n',
    ours: '# start settings\nHOST=localhost\n# our port\nPORT=9090\nMODE=fast\n',
    theirs: '# start settings\nHOST=localhost\nPORT=8080\nMODE=safe\nTIMEOUT=30\n',
    theirsClash: '# start settings\nHOST=localhost\nPORT=8081\nMODE=fast\n',
    read: (t) =>
      Object.fromEntries(
        Object.entries(getProperties(t)).map(([k, v]) => [k.toLowerCase(), v] as const),
      ),
  },
  {
    path: 'conf/server.yaml',
    format: 'yaml',
    base: '# server settings\nserver:\n  host: localhost\n  port: 8080\n  mode: fast\n',
    ours: '# server settings\nserver:\n  host: localhost\n  # our port\n  port: 9090\n  mode: fast\n',
    theirs:
      '# server settings\nserver:\n  host: localhost\n  port: 8080\n  mode: safe\n  # seconds\n  timeout: 30\n',
    theirsClash: '# server settings\nserver:\n  host: localhost\n  port: 8081\n  mode: fast\n',
    read: (t) => stringsOf((parseYaml(t) as { server: Record<string, unknown> }).server),
  },
  {
    path: 'conf/server.json',
    format: 'json',
    base: '{\n  "server": {\n    "host": "localhost",\n    "port": 8080,\n    "mode": "fast"\n  }\n}\n',
    ours: '{\n    "server": {\n        "host": "localhost",\n        "port": 9090,\n        "mode": "fast"\n    }\n}\n',
    theirs:
      '{\n  "server": {\n    "host": "localhost",\n    "port": 8080,\n    "mode": "safe",\n    "timeout": 30\n  }\n}\n',
    theirsClash:
      '{\n  "server": {\n    "host": "localhost",\n    "port": 8081,\n    "mode": "fast"\n  }\n}\n',
    layoutMark: '\n        "port": 9090,\n',
    read: (t) => stringsOf((JSON.parse(t) as { server: Record<string, unknown> }).server),
  },
  {
    path: 'conf/server.xml',
    format: 'xml',
    base: '<?xml version="1.0" encoding="UTF-8"?>\n<!-- server settings -->\n<server host="localhost">\n  <port>8080</port>\n  <mode>fast</mode>\n</server>\n',
    ours: '<?xml version="1.0" encoding="UTF-8"?>\n<!-- server settings -->\n<server host=\'localhost\'>\n  <!-- our port -->\n  <port>9090</port>\n  <mode>fast</mode>\n</server>\n',
    theirs:
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- server settings -->\n<server host="localhost">\n  <port>8080</port>\n  <mode>safe</mode>\n  <timeout>30</timeout>\n</server>\n',
    theirsClash:
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- server settings -->\n<server host="localhost">\n  <port>8081</port>\n  <mode>fast</mode>\n</server>\n',
    read: readXml,
  },
  {
    path: 'conf/nginx.conf',
    format: 'text',
    base: 'server {\n  host localhost;\n  port 8080;\n  workers 4;\n  mode fast;\n}\n',
    ours: 'server {\n  host localhost;\n  # our port\n  port 9090;\n  workers 4;\n  mode fast;\n}\n',
    theirs:
      'server {\n  host localhost;\n  port 8080;\n  workers 4;\n  mode safe;\n  timeout 30;\n}\n',
    theirsClash: 'server {\n  host localhost;\n  port 8081;\n  workers 4;\n  mode fast;\n}\n',
    read: (t) =>
      Object.fromEntries(
        [...t.matchAll(/^\s+(\w+) (\S+);$/gm)].map((m) => [m[1] as string, m[2] as string]),
      ),
  },
];

function stringsOf(map: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, String(v)]));
}

function readXml(text: string): Record<string, string> {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, msg) => level !== 'warning' && errors.push(msg),
  }).parseFromString(text, 'text/xml');
  if (errors.length > 0 || !doc.documentElement) throw new Error(errors.join('; '));
  const root = doc.documentElement;
  const out: Record<string, string> = { host: root.getAttribute('host') ?? '' };
  for (const el of Array.from(root.childNodes)) {
    if (el.nodeType === 1) out[el.nodeName] = el.textContent ?? '';
  }
  return out;
}

const b = (s: string) => Buffer.from(s, 'utf8');
const text = (m: FileMerge) => m.content?.toString('utf8') ?? '';
const merge = (f: Fixture, base: string | null, ours: string | null, theirs: string | null) =>
  mergeFile({
    path: f.path,
    base: base === null ? null : b(base),
    ours: ours === null ? null : b(ours),
    theirs: theirs === null ? null : b(theirs),
  });
const crlfBom = (s: string) => `\uFEFF${s.replace(/\n/g, '\r\n')}`;

describe.each(fixtures.map((f) => [f.path, f] as const))('C.7 matrix: %s', (_, f) => {
  it('picks the format from the path and contents', () => {
    expect(formatOf(f.path, [b(f.base), b(f.ours), b(f.theirs)])).toBe(f.format);
    expect(merge(f, f.base, f.ours, f.theirs).format).toBe(f.format);
  });

  it('1. vendor unchanged, customer changed: keeps the customer bytes exactly', () => {
    const m = merge(f, f.base, f.ours, f.base);
    expect(m.outcome).toBe('keep-ours');
    expect(m.content?.equals(b(f.ours))).toBe(true);
  });

  it('2. vendor changed, customer unchanged: takes the new vendor file', () => {
    const m = merge(f, f.base, f.base, f.theirs);
    expect(m.outcome).toBe('take-theirs');
    expect(m.content?.equals(b(f.theirs))).toBe(true);
    expect(m.notes.length).toBeGreaterThan(0);
  });

  it('3. both changed, different keys: merged, well-formed, customer layout kept', () => {
    const m = merge(f, f.base, f.ours, f.theirs);
    expect(m.outcome).toBe('merged');
    expect(m.conflicts).toEqual([]);
    const values = f.read(text(m));
    expect(values).toMatchObject({ host: 'localhost', port: '9090', mode: 'safe', timeout: '30' });
    expect(text(m)).toContain(f.layoutMark ?? 'our port');
  });

  it('4. both changed the same key differently: a conflict, never a silent pick', () => {
    const m = merge(f, f.base, f.ours, f.theirsClash);
    expect(m.outcome).toBe('conflict');
    expect(m.conflicts).toHaveLength(1);
    const c = m.conflicts[0];
    expect(c?.ours).toContain('9090');
    expect(c?.theirs).toContain('8081');
    expect(c?.base).toContain('8080');
    if (f.format === 'text') {
      expect(c?.where).toMatch(/^lines? \d/);
      expect(text(m)).toMatch(
        /^<<<<<<< [^\n]*\n[\s\S]*9090[\s\S]*\n\|\|\|\|\|\|\| [\s\S]*\n=======\n[\s\S]*8081[\s\S]*\n>>>>>>> /m,
      );
    } else {
      expect(c?.where).toMatch(/port/i);
      // The proposed file is well-formed and keeps the customer's value at the conflict.
      expect(f.read(text(m))).toMatchObject({ port: '9090', mode: 'fast' });
    }
  });

  it('5. customer deleted a vendor file: it stays deleted', () => {
    for (const theirs of [f.base, f.theirs]) {
      const m = merge(f, f.base, null, theirs);
      expect(m.outcome).toBe('keep-deleted');
      expect(m.content).toBeNull();
    }
  });

  it('6. vendor deleted a file: deleted when unchanged, orphaned with the customer bytes when changed', () => {
    const unchanged = merge(f, f.base, f.base, null);
    expect(unchanged.outcome).toBe('delete');
    expect(unchanged.content).toBeNull();
    const changed = merge(f, f.base, f.ours, null);
    expect(changed.outcome).toBe('orphaned');
    expect(changed.content?.equals(b(f.ours))).toBe(true);
    expect(changed.notes.join(' ')).toContain(`${f.path}.orphaned`);
  });

  it('7. CRLF and a BOM in the customer file survive the merge', () => {
    const m = merge(f, f.base, crlfBom(f.ours), f.theirs);
    expect(m.outcome).toBe('merged');
    const bytes = m.content as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const body = bytes.subarray(3).toString('utf8');
    expect(
      body
        .split('\n')
        .slice(0, -1)
        .every((line) => line.endsWith('\r')),
    ).toBe(true);
    expect(f.read(body.replace(/\r\n/g, '\n'))).toMatchObject({ port: '9090', mode: 'safe' });
  });

  it('7. a binary file is never merged: conflict when both changed, else one side whole', () => {
    const binary = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0x10]);
    const both = mergeFile({ path: f.path, base: b(f.base), ours: binary, theirs: b(f.theirs) });
    expect(both.outcome).toBe('conflict');
    expect(both.content?.equals(binary)).toBe(true);
    const vendorOnly = mergeFile({
      path: f.path,
      base: b(f.base),
      ours: binary,
      theirs: b(f.base),
    });
    expect(vendorOnly.outcome).toBe('keep-ours');
    const notUtf8 = Buffer.from([0x68, 0x6f, 0x73, 0x74, 0xc3, 0x28, 0x0a]);
    expect(
      mergeFile({ path: f.path, base: b(f.base), ours: notUtf8, theirs: b(f.theirs) }).outcome,
    ).toBe('conflict');
  });

  it('9. idempotent: merging the merged file again gives the same bytes', () => {
    for (const ours of [f.ours, crlfBom(f.ours)]) {
      const first = merge(f, f.base, ours, f.theirs);
      const second = mergeFile({
        path: f.path,
        base: b(f.base),
        ours: first.content as Buffer,
        theirs: b(f.theirs),
      });
      expect(second.outcome).toBe('keep-ours');
      expect(second.content?.equals(first.content as Buffer)).toBe(true);
    }
    const conflict = merge(f, f.base, f.ours, f.theirsClash);
    if (f.format !== 'text') {
      const again = mergeFile({
        path: f.path,
        base: b(f.base),
        ours: conflict.content as Buffer,
        theirs: b(f.theirsClash),
      });
      expect(again.content?.equals(conflict.content as Buffer)).toBe(true);
      expect(again.conflicts).toEqual(conflict.conflicts);
    }
  });

  it('a file both sides add: identical is kept, different is merged key by key', () => {
    expect(merge(f, null, f.theirs, f.theirs).outcome).toBe('keep-ours');
    const m = merge(f, null, f.ours, f.theirs);
    expect(['conflict', 'merged']).toContain(m.outcome);
    expect(m.notes.join(' ')).toContain('both add');
  });
});

describe('outcomes without a customer file or a vendor file', () => {
  it.each([
    ['new vendor file', null, null, 'x', 'take-theirs', 'x'],
    ["the customer's own file", null, 'mine', null, 'keep-ours', 'mine'],
    ['gone everywhere', 'old', null, null, 'keep-deleted', null],
    ['absent on every side', null, null, null, 'keep-deleted', null],
  ] as const)('%s', (_, base, ours, theirs, outcome, content) => {
    const m = mergeFile({
      path: 'conf/a.txt',
      base: base === null ? null : b(base),
      ours: ours === null ? null : b(ours),
      theirs: theirs === null ? null : b(theirs),
    });
    expect(m.outcome).toBe(outcome);
    expect(m.content === null ? null : m.content.toString()).toBe(content);
  });
});
