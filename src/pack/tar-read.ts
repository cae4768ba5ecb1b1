/**
 * A synchronous tar reader for verification: the decoded payload is pushed in buffers and read back
 * as events (a header, its content in slices of those buffers, its end), with no streams, no
 * promises and no copies of file content. It reads tar exactly as tar-stream 3 does (the same
 * header decoding, checksum, ustar prefix, GNU long names and pax records applied to the next
 * header, directories without content, the same errors), so every check made on its headers is
 * the one made before; it only costs less per entry and per byte.
 */

export interface TarEntryHeader {
  name: string;
  mode: number;
  size: number;
  /** 'file', 'symlink', 'directory', …, or null for a type flag tar does not name. */
  type: string | null;
  linkname: string | null;
}

export type TarEvent =
  | { kind: 'header'; header: TarEntryHeader }
  | { kind: 'data'; data: Buffer }
  | { kind: 'end' };

const block = 512;
/** tar-stream's cap on a long-name or pax record block. */
const maxLongHeader = 4 << 20;
const types: Record<number, string> = {
  0: 'file',
  1: 'link',
  2: 'symlink',
  3: 'character-device',
  4: 'block-device',
  5: 'directory',
  6: 'fifo',
  7: 'contiguous-file',
  72: 'pax-header',
  55: 'pax-global-header',
  27: 'gnu-long-link-path',
  28: 'gnu-long-path',
  30: 'gnu-long-path',
};

export class TarReader {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Content bytes of the current entry still to come. */
  private missing = 0;
  /** Padding (or content of an entry without events) still to skip. */
  private skip = 0;
  private long: TarEntryHeader | undefined;
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> | null = null;
  private gnuLongPath: string | null = null;
  private gnuLongLinkPath: string | null = null;
  private pendingEnd = false;

  /**
   * Adds the next bytes. They are read in place until next() returns undefined; what is left then
   * (part of a header) is copied, so the caller may reuse its buffers from there on.
   */
  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.buffered += b.length;
  }

  /** The next event the buffered bytes make, or undefined when more bytes are needed. */
  next(): TarEvent | undefined {
    for (;;) {
      if (this.pendingEnd) {
        this.pendingEnd = false;
        return { kind: 'end' };
      }
      if (this.buffered === 0) return this.need();
      if (this.missing > 0) {
        const data = this.shiftFirst(this.missing);
        this.missing -= data.length;
        if (this.missing === 0) this.endEntry();
        return { kind: 'data', data };
      }
      if (this.skip > 0) {
        this.skip -= this.shiftFirst(this.skip).length;
        continue;
      }
      if (this.long) {
        if (this.buffered < this.long.size) return this.need();
        this.decodeLong(this.long, this.shift(this.long.size));
        this.skip = padding(this.long.size);
        this.long = undefined;
        continue;
      }
      if (this.buffered < block) return this.need();
      const h = decodeHeader(this.shift(block));
      if (!h) continue;
      switch (h.type) {
        case 'gnu-long-path':
        case 'gnu-long-link-path':
        case 'pax-global-header':
        case 'pax-header':
          if (h.size > maxLongHeader) throw new Error('Header exceeds max size');
          this.long = h;
          continue;
      }
      this.applyLong(h);
      if (!(h.size >= 0)) throw new Error('Invalid header');
      if (h.size === 0 || h.type === 'directory') this.pendingEnd = true;
      else this.missing = h.size;
      return { kind: 'header', header: h };
    }
  }

  /** Throws when the bytes end inside a header or an entry (tar-stream's "Unexpected end of data"). */
  finish(): void {
    if (this.missing !== 0 || this.buffered !== 0 || this.long || this.skip !== 0)
      throw new Error('Unexpected end of data');
  }

  /** Keeps what is left of the pushed bytes in a buffer of its own. */
  private need(): undefined {
    if (this.chunks.length > 0) {
      const own = Buffer.concat(this.chunks);
      this.chunks.length = 0;
      this.chunks.push(own);
    }
    return undefined;
  }

  private endEntry(): void {
    this.pendingEnd = true;
    this.skip = padding(this.currentSize);
  }

  private currentSize = 0;

  private applyLong(h: TarEntryHeader): void {
    if (this.gnuLongPath) {
      h.name = this.gnuLongPath;
      this.gnuLongPath = null;
    }
    if (this.gnuLongLinkPath) {
      h.linkname = this.gnuLongLinkPath;
      this.gnuLongLinkPath = null;
    }
    if (this.pax) {
      if (this.pax.path) h.name = this.pax.path;
      if (this.pax.linkpath) h.linkname = this.pax.linkpath;
      if (this.pax.size) h.size = Number.parseInt(this.pax.size, 10);
      this.pax = null;
    }
    this.currentSize = h.size;
  }

  private decodeLong(h: TarEntryHeader, buf: Buffer): void {
    if (h.type === 'gnu-long-path') this.gnuLongPath = decodeStr(buf, 0, buf.length);
    else if (h.type === 'gnu-long-link-path') this.gnuLongLinkPath = decodeStr(buf, 0, buf.length);
    else if (h.type === 'pax-global-header') this.paxGlobal = decodePax(buf);
    else this.pax = { ...(this.paxGlobal ?? {}), ...decodePax(buf) };
  }

  /** Up to `n` bytes from the front, without copying: a slice of one pushed buffer. */
  private shiftFirst(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length <= n) {
      this.chunks.shift();
      this.buffered -= first.length;
      return first;
    }
    this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return first.subarray(0, n);
  }

  /** Exactly `n` buffered bytes from the front (copied only when they span buffers). */
  private shift(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) return this.shiftFirst(n);
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n; ) off += this.shiftFirst(n - off).copy(out, off);
    return out;
  }
}

function padding(size: number): number {
  const r = size % block;
  return r && block - r;
}

function decodeHeader(buf: Buffer): TarEntryHeader | null {
  const typeflag = buf[156] === 0 ? 0 : (buf[156] as number) - 48;
  let name = decodeStr(buf, 0, 100);
  const mode = decodeOct(buf, 100, 8);
  const size = decodeOct(buf, 124, 12);
  const linkname = buf[157] === 0 ? null : decodeStr(buf, 157, 100);
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += buf[i] as number;
  for (let i = 156; i < block; i++) sum += buf[i] as number;
  // A block of zeros: the end of the archive.
  if (sum === 8 * 32) return null;
  if (sum !== decodeOct(buf, 148, 8))
    throw new Error('Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?');
  const magic = buf.toString('latin1', 257, 263);
  if (magic === 'ustar\u0000') {
    if (buf[345]) name = `${decodeStr(buf, 345, 155)}/${name}`;
  } else if (!(magic === 'ustar ' && buf[263] === 0x20 && buf[264] === 0))
    throw new Error('Invalid tar header: unknown format.');
  // tar-stream does not turn an old-style 'dir/' file into a directory (it names the type before
  // it looks): neither does this, so such an entry stays a file and its name is refused.
  return { name, mode, size, type: types[typeflag] ?? null, linkname };
}

function decodeStr(buf: Buffer, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && buf[end] !== 0) end++;
  return buf.toString('utf8', offset, end);
}

function decodeOct(buf: Buffer, offset: number, length: number): number {
  const val = buf.subarray(offset, offset + length);
  if ((val[0] as number) & 0x80) return parse256(val);
  let i = 0;
  while (i < val.length && val[i] === 32) i++;
  let end = i;
  while (end < val.length && val[end] !== 32) end++;
  while (i < end && val[i] === 0) i++;
  if (end === i) return 0;
  return Number.parseInt(val.toString('latin1', i, end), 8);
}

/** Base-256 numbers (0x80 positive, 0xff negative), as tar-stream reads them; NaN otherwise. */
function parse256(val: Buffer): number {
  let positive: boolean;
  if (val[0] === 0x80) positive = true;
  else if (val[0] === 0xff) positive = false;
  else return Number.NaN;
  let sum = 0;
  for (let i = val.length - 1, p = 1; i > 0; i--, p *= 256)
    sum += (positive ? (val[i] as number) : 0xff - (val[i] as number)) * p;
  return positive ? sum : -sum;
}

function decodePax(input: Buffer): Record<string, string> {
  const result: Record<string, string> = {};
  let buf = input;
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = Number.parseInt(buf.toString('utf8', 0, i), 10);
    if (!len) return result;
    const b = buf.toString('utf8', i + 1, len - 1);
    const k = b.indexOf('=');
    if (k === -1) return result;
    result[b.slice(0, k)] = b.slice(k + 1);
    buf = buf.subarray(len);
  }
  return result;
}
