import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { TarReader } from './tar-read.ts';

interface Seen {
  name: string;
  type: string | null;
  mode: number;
  size: number;
  linkname: string | null;
  sha: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A real tar from tar-stream's packer: long and non-ASCII names (pax), a link, a directory, sizes around a block. */
async function sample(): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<Buffer>((res) => pack.on('end', () => res(Buffer.concat(chunks))));
  const body = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7) & 255));
  for (const [name, n] of [
    ['a', 0],
    ['b/c.txt', 1],
    ['b/d.bin', 511],
    ['b/e.bin', 512],
    ['b/f.bin', 513],
    [`${'long/'.repeat(40)}g`, 5000],
    ['naïve/ü.txt', 70_000],
  ] as const)
    pack.entry({ name, mode: 0o640, mtime: new Date(0) }, body(n));
  pack.entry({ name: 'l', type: 'symlink', linkname: 'b/c.txt', mtime: new Date(0) });
  pack.entry({ name: 'dir', type: 'directory', mode: 0o755, mtime: new Date(0) });
  pack.finalize();
  return done;
}

async function withTarStream(t: Buffer): Promise<Seen[]> {
  const extract = tar.extract();
  const out: Seen[] = [];
  extract.end(t);
  for await (const e of extract) {
    const parts: Buffer[] = [];
    for await (const c of e as AsyncIterable<Buffer>) parts.push(c);
    const h = e.header;
    out.push({
      name: h.name,
      type: h.type ?? null,
      mode: h.mode ?? 0,
      size: h.size ?? 0,
      linkname: h.linkname ?? null,
      sha: sha(Buffer.concat(parts)),
    });
  }
  return out;
}

function withReader(t: Buffer, cut: number): Seen[] {
  const r = new TarReader();
  const out: Seen[] = [];
  let parts: Buffer[] = [];
  for (let off = 0; off < t.length; off += cut) {
    // A copy the caller then spoils: the reader must not keep the caller's bytes past next().
    const piece = Buffer.from(t.subarray(off, off + cut));
    r.push(piece);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === 'header') {
        const h = ev.header;
        out.push({ ...h, sha: '' });
        parts = [];
      } else if (ev.kind === 'data') parts.push(Buffer.from(ev.data));
      else (out.at(-1) as Seen).sha = sha(Buffer.concat(parts));
    }
    piece.fill(0xee);
  }
  r.finish();
  return out;
}

describe('TarReader', () => {
  it('reads what tar-stream reads, whatever the buffers the bytes come in', async () => {
    const t = await sample();
    const want = await withTarStream(t);
    expect(want.map((w) => w.name)).toContain(`${'long/'.repeat(40)}g`);
    for (const cut of [1, 100, 511, 512, 513, 4096, t.length])
      expect(withReader(t, cut), `buffers of ${cut} bytes`).toEqual(want);
  });

  it('refuses a damaged header and a tar cut short, as tar-stream does', async () => {
    const t = await sample();
    const bad = Buffer.from(t);
    bad[600] = (bad[600] as number) ^ 1; // inside the second header's name: its checksum fails
    expect(() => withReader(bad, 4096)).toThrow(/Invalid tar header/);
    expect(() => withReader(t.subarray(0, 1000), 4096)).toThrow('Unexpected end of data');
  });
});
