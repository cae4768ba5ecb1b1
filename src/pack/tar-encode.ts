/**
 * The tar headers of a payload entry, byte for byte what tar-stream's packer writes (ustar, with a
 * pax record for a name or link target that ustar cannot hold), so the unpacked payload of a pack
 * is the same tar it always was. Encoding here, and not through tar-stream's stream, lets the
 * build read each file straight into the buffer of the frame that compresses it.
 */

export type TarType = 'file' | 'symlink' | 'directory';

export interface TarHeader {
  name: string;
  size: number;
  mode: number;
  type: TarType;
  linkname?: string;
}

const block = 512;
const typeFlags: Record<TarType | 'pax-header', number> = {
  file: 0x30,
  symlink: 0x32,
  directory: 0x35,
  'pax-header': 0x78,
};

/** `n` octal digits and a space (tar-stream's encoding; the byte after stays NUL). */
function octal(value: number, n: number): string {
  const s = value.toString(8);
  return s.length > n ? `${'7'.repeat(n)} ` : `${s.padStart(n, '0')} `;
}

function checksum(b: Buffer): number {
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[i] as number;
  for (let i = 156; i < block; i++) sum += b[i] as number;
  return sum;
}

/** How a name splits into ustar's name and prefix fields, or undefined when it cannot (pax then). */
function ustarName(
  nameIn: string,
  linkname: string | undefined,
): { name: string; prefix: string } | undefined {
  let name = nameIn;
  if (Buffer.byteLength(name) !== name.length) return undefined;
  let prefix = '';
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (name.length > 100 || prefix.length > 155) return undefined;
  if (linkname && Buffer.byteLength(linkname) > 100) return undefined;
  return { name, prefix };
}

/** The fields every header of a pack shares: owners 0, mtime 0, the ustar magic and version. */
const template = (() => {
  const b = Buffer.alloc(block);
  b.write(octal(0, 6), 108, 'latin1');
  b.write(octal(0, 6), 116, 'latin1');
  b.write(octal(0, 11), 136, 'latin1');
  b.write('ustar\u000000', 257, 'latin1');
  b.write(octal(0, 6), 329, 'latin1');
  b.write(octal(0, 6), 337, 'latin1');
  return b;
})();

/** One ustar header block, or undefined when the name or link target does not fit (pax then). */
function ustar(
  nameIn: string,
  size: number,
  mode: number,
  type: TarType | 'pax-header',
  linkname: string | undefined,
): Buffer | undefined {
  const fit = ustarName(nameIn, linkname);
  if (!fit) return undefined;
  const b = Buffer.allocUnsafe(block);
  template.copy(b);
  b.write(fit.name, 0, 'utf8');
  b.write(octal(mode & 0o7777, 6), 100, 'latin1');
  if (size.toString(8).length > 11) {
    b[124] = 0x80;
    let n = size;
    for (let i = 11; i > 0; i--) {
      b[124 + i] = n & 0xff;
      n = Math.floor(n / 0x100);
    }
  } else b.write(octal(size, 11), 124, 'latin1');
  b[156] = typeFlags[type];
  if (linkname) b.write(linkname, 157, 'utf8');
  if (fit.prefix) b.write(fit.prefix, 345, 'utf8');
  b.write(octal(checksum(b), 6), 148, 'latin1');
  return b;
}

/** A pax record `LEN key=value\n`, LEN counting itself. */
function paxRecord(s: string): string {
  const len = Buffer.byteLength(s);
  let digits = Math.floor(Math.log10(len)) + 1;
  if (len + digits >= 10 ** digits) digits++;
  return `${len + digits}${s}`;
}

/** The pax records of an entry whose name or link target ustar cannot hold. */
function paxBody(h: TarHeader): Buffer {
  let records = paxRecord(` path=${h.name}\n`);
  if (h.linkname) records += paxRecord(` linkpath=${h.linkname}\n`);
  return Buffer.from(records, 'utf8');
}

/** The header blocks of one entry: its ustar header, or a pax header, its records and then it. */
export function encodeTarHeader(h: TarHeader): Buffer {
  const plain = ustar(h.name, h.size, h.mode, h.type, h.linkname);
  if (plain) return plain;
  const body = paxBody(h);
  const padded = Math.ceil(body.length / block) * block;
  const linkname = h.linkname ? 'PaxHeader' : undefined;
  const paxHeader = ustar('PaxHeader', body.length, h.mode, 'pax-header', linkname) as Buffer;
  const header = ustar('PaxHeader', h.size, h.mode, h.type, linkname) as Buffer;
  const out = Buffer.alloc(block + padded + block);
  paxHeader.copy(out, 0);
  body.copy(out, block);
  header.copy(out, block + padded);
  return out;
}

/** How many bytes {@link encodeTarHeader} gives for `h`, without encoding it. */
export function tarHeaderBytes(h: Pick<TarHeader, 'name' | 'linkname'>): number {
  if (ustarName(h.name, h.linkname)) return block;
  const body = Buffer.byteLength(paxBody({ ...h, size: 0, mode: 0, type: 'file' }));
  return block + Math.ceil(body / block) * block + block;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): number {
  return (block - (size % block)) % block;
}

/** The end of a tar: two zero blocks. */
export const tarEndBytes = 2 * block;
