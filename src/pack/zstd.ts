import { CompressStream } from 'zstd-napi';
import binding from 'zstd-napi/binding.js';

/** Fixed so the same inputs give the same bytes; chosen by measurement (docs/pack-format.md). */
export const zstdLevel = 3;
/**
 * The largest window a pack may ask a decoder for (2^23 = 8 MiB). The compressor stays inside it,
 * and the decoder refuses more, so a hostile frame cannot make verification allocate more.
 */
export const windowLog = 23;

/** A single-threaded, deterministic zstd compressor with a frame checksum. */
export function compressStream(level = zstdLevel): CompressStream {
  return new CompressStream({
    compressionLevel: level,
    windowLog,
    checksumFlag: true,
    contentSizeFlag: false,
    nbWorkers: 0,
  });
}

export class UnpackedLimitError extends Error {
  readonly limit: number;
  constructor(limit: number, detail?: string) {
    super(detail ?? `the payload unpacks to more than ${limit} bytes`);
    this.limit = limit;
  }
}

/** Bytes that hold any zstd frame header (magic, descriptor, window, dictionary id, size). */
export const frameHeaderBytes = 18;

/**
 * A frame's declared content size, checked before a byte of it is decoded: more than the
 * `room` the manifest leaves is refused at once (the decoder would stop there anyway, after
 * decoding up to that much). Frames without a declared size (packs built before frames) pass to
 * the running limit. Returns the refusal's text, or undefined.
 */
export function frameOverLimit(
  header: Buffer,
  frame: number,
  at: number,
  room: number,
): string | undefined {
  let declared: number | null;
  try {
    declared = binding.getFrameContentSize(header);
  } catch {
    return undefined; // not a frame header: the decoder names the damage
  }
  if (declared === null || declared <= room) return undefined;
  return `frame ${frame} (at payload byte ${at}) declares ${declared} unpacked bytes; the manifest leaves ${room}`;
}

export class FrameError extends Error {}

/**
 * Decoder output buffers: large enough that the per-call and per-chunk costs vanish beside the
 * decoding itself (128 KiB outputs made it 2x slower), small enough to keep memory bounded.
 */
const outSize = 2 << 20;

/**
 * Decompresses a stream of zstd bytes, yielding one bounded buffer at a time, so a consumer's
 * backpressure reaches the decoder: a 1:30000 frame never piles up in memory. Stops with
 * UnpackedLimitError as soon as the output would pass `limit`, and with FrameError on damaged or
 * unfinished frames. Each yielded buffer is the consumer's to keep (a slice of an output buffer the
 * decoder never writes again).
 */
export async function* decompressBounded(
  source: AsyncIterable<Buffer>,
  limit: number,
  peek?: (offset: number, length: number) => Promise<Buffer>,
): AsyncGenerator<Buffer> {
  const dctx = new binding.DCtx();
  dctx.setParameter(binding.DParameter.windowLogMax, windowLog);
  let total = 0;
  let inFrame = false;
  let dst = Buffer.allocUnsafe(outSize);
  /** Payload offset of src[0], the current frame's number and where it starts. */
  let pos = 0;
  let frame = 0;
  let frameAt = 0;
  let checked = -1;
  for await (const chunk of source) {
    let src = chunk;
    for (;;) {
      if (dst.length < 64 << 10) dst = Buffer.allocUnsafe(outSize);
      if (peek && !inFrame && checked !== frame && src.length > 0) {
        checked = frame;
        const over = frameOverLimit(
          await peek(frameAt, frameHeaderBytes),
          frame,
          frameAt,
          limit - total,
        );
        if (over) throw new UnpackedLimitError(limit, over);
      }
      const room = dst.length;
      let ret: number;
      let produced: number;
      let consumed: number;
      try {
        [ret, produced, consumed] = dctx.decompressStream(dst, src);
      } catch (err) {
        throw new FrameError(
          `frame ${frame} (at payload byte ${frameAt}) is damaged: ${(err as Error).message}`,
        );
      }
      src = src.subarray(consumed);
      pos += consumed;
      inFrame = ret !== 0;
      if (ret === 0 && consumed + produced > 0) {
        frame++;
        frameAt = pos;
      }
      if (produced > 0) {
        total += produced;
        if (total > limit) throw new UnpackedLimitError(limit);
        const out = dst.subarray(0, produced);
        // The rest of this output buffer is fresh space for the next call: nothing is copied.
        dst = dst.subarray(produced);
        yield out;
      }
      if (src.length === 0 && (produced < room || ret === 0)) break;
    }
  }
  if (inFrame)
    throw new FrameError(
      `the compressed payload ends in the middle of frame ${frame} (at payload byte ${frameAt})`,
    );
}
