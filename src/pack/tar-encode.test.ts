import { describe, expect, it } from 'vitest';
import { tarOf } from '../../test/util/pack-assemble.ts';
import { encodeTarHeader, type TarHeader, tarHeaderBytes, tarPadding } from './tar-encode.ts';

const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}/file.txt`;
const cases: [string, TarHeader][] = [
  ['a short name', { name: 'bin/start_all', size: 2896, mode: 0o755, type: 'file' }],
  ['an empty file', { name: 'conf/empty', size: 0, mode: 0o600, type: 'file' }],
  ['a name split into prefix and name', { name: deep, size: 7, mode: 0o644, type: 'file' }],
  [
    'a 101-byte name with no slash (pax)',
    { name: 'n'.repeat(101), size: 3, mode: 0o644, type: 'file' },
  ],
  [
    'a name with a non-ASCII letter (pax)',
    { name: 'docs/résumé.txt', size: 5, mode: 0o644, type: 'file' },
  ],
  [
    'a symbolic link',
    { name: 'lib/current', size: 0, mode: 0o777, type: 'symlink', linkname: '../v2/lib' },
  ],
  [
    'a link target over 100 bytes (pax)',
    {
      name: 'node_modules/.bin/x',
      size: 0,
      mode: 0o777,
      type: 'symlink',
      linkname: `../${'t'.repeat(120)}/x.js`,
    },
  ],
  ['an empty directory', { name: 'var/spool', size: 0, mode: 0o750, type: 'directory' }],
];

describe('encodeTarHeader', () => {
  it.each(cases)(
    'gives the bytes tar-stream writes, and tarHeaderBytes their length: %s',
    async (_, h) => {
      const body = h.type === 'file' ? Buffer.alloc(h.size, 0x61) : undefined;
      const tar = await tarOf([
        { name: h.name, type: h.type, mode: h.mode, linkname: h.linkname, body },
      ]);
      const header = encodeTarHeader(h);

      expect(tarHeaderBytes(h)).toBe(header.length);
      expect(header.equals(tar.subarray(0, header.length))).toBe(true);
      // What follows is the content, its padding and the two end blocks: nothing else.
      expect(tar.length).toBe(header.length + h.size + tarPadding(h.size) + 1024);
    },
  );
});
