import { currentTime } from '../util/index.ts';
import { type DelimitedFormat, delimitedParser } from './delimited.ts';
import { TrafficFold } from './fold.ts';
import { type ScanOptions, type Skipped, scanFile } from './scan.ts';
import type { TrafficProfile, TransferRecord } from './types.ts';
import { type LineParser, type RecordSink, xferlogParser } from './xferlog.ts';
import { LocalClock } from './zone.ts';

/** How a log is written: xferlog, or a declared JSON-lines/CSV mapping. */
export type TrafficFormat = { kind: 'xferlog' } | DelimitedFormat;

/** One log to read: a file, its format (default xferlog) and its zone (default the reader's). */
export interface TrafficSource {
  file: string;
  format?: TrafficFormat;
  zone?: string;
}

export interface ReadOptions extends ScanOptions {
  /** The IANA zone local times are written in, for sources that name none (default the machine's). */
  zone?: string;
  /** The format of sources given as plain paths (default xferlog). */
  format?: TrafficFormat;
}

const asSource = (s: string | TrafficSource): TrafficSource =>
  typeof s === 'string' ? { file: s } : s;

function parserFor(
  source: TrafficSource,
  opts: ReadOptions,
  clocks: Map<string, LocalClock>,
  sink: RecordSink,
): LineParser {
  // A line dated after now cannot have been logged yet (xferlog.ts, impossibleTime).
  const now = currentTime().getTime();
  const zone = source.zone ?? opts.zone;
  const key = zone ?? '';
  let clock = clocks.get(key);
  if (clock === undefined) {
    clock = new LocalClock(zone);
    clocks.set(key, clock);
  }
  const format = source.format ?? opts.format ?? { kind: 'xferlog' };
  return format.kind === 'xferlog'
    ? xferlogParser(clock, sink, now)
    : delimitedParser(format, clock, sink, now);
}

/**
 * Reads transfer logs, in the order given, into a traffic profile: per 15-minute slot of the week
 * (UTC), transfers, bytes and distinct accounts. Streams: memory does not grow with the logs'
 * size, only with the account-slot pairs they hold. Throws UPLIFT_TRAFFIC_LOG_INVALID for a file
 * that is not a log, UPLIFT_FILE_NOT_FOUND for a missing one.
 */
export async function readTrafficProfile(
  sources: readonly (string | TrafficSource)[],
  opts: ReadOptions & { span?: { from: number; to: number } } = {},
): Promise<TrafficProfile> {
  const fold = new TrafficFold();
  const skipped: Skipped = { count: 0, examples: [] };
  const clocks = new Map<string, LocalClock>();
  const files: string[] = [];
  for (const s of sources.map(asSource)) {
    files.push(s.file);
    for await (const _ of scanFile(s.file, parserFor(s, opts, clocks, fold), skipped, opts));
  }
  return fold.profile(skipped, files, opts.span);
}

/** The records of transfer logs as they are read, and what could not be read so far. */
export interface TransferLogRead extends AsyncIterable<TransferRecord> {
  readonly skipped: Skipped;
  readonly sources: readonly string[];
}

/**
 * Streams the records of transfer logs, in the order given, one object per transfer (for a
 * profile, `readTrafficProfile` is faster: it makes no object per line). `skipped` fills as the
 * files are read.
 */
export function readTransferLogs(
  sources: readonly (string | TrafficSource)[],
  opts: ReadOptions = {},
): TransferLogRead {
  const skipped: Skipped = { count: 0, examples: [] };
  const list = sources.map(asSource);
  return {
    skipped,
    sources: list.map((s) => s.file),
    async *[Symbol.asyncIterator]() {
      const clocks = new Map<string, LocalClock>();
      let batch: TransferRecord[] = [];
      const sink: RecordSink = {
        add(at, bytes, account, incoming, completed) {
          batch.push({ at, bytes, account, direction: incoming ? 'in' : 'out', completed });
        },
      };
      for (const s of list) {
        // A file's records wait until its first lines showed it is a log.
        for await (const judged of scanFile(
          s.file,
          parserFor(s, opts, clocks, sink),
          skipped,
          opts,
        )) {
          if (!judged) continue;
          const ready = batch;
          batch = [];
          yield* ready;
        }
        const ready = batch;
        batch = [];
        yield* ready;
      }
    },
  };
}
