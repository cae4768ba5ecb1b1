import type { TrafficDeclaration, TrafficFields } from './schema.ts';
import { daysFromCivil, impossibleTime, type LineParser, type RecordSink } from './xferlog.ts';
import type { LocalClock } from './zone.ts';

/** How a JSON-lines or CSV log is read: `TrafficDeclaration` without where the files are. */
export type DelimitedFormat = Pick<TrafficDeclaration, 'time' | 'values' | 'delimiter'> & {
  kind: 'jsonl' | 'csv';
  fields: TrafficFields;
};

const iso =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** An instant from a time as the declaration says it is written; NaN when it is not. */
function timeOf(value: unknown, time: DelimitedFormat['time'], clock: LocalClock): number {
  if (time !== 'iso') {
    const n = typeof value === 'number' ? value : Number(value);
    if (typeof value === 'string' && value.trim() === '') return Number.NaN;
    return time === 'epoch-s' ? n * 1000 : n;
  }
  const m = typeof value === 'string' ? iso.exec(value.trim()) : null;
  if (m === null) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  const local =
    daysFromCivil(Number(y), Number(mo), Number(d)) * 86_400_000 +
    ((Number(h) * 60 + Number(mi)) * 60 + Number(s ?? 0)) * 1000 +
    ms;
  if (offset === undefined) return clock.toUtc(local);
  if (offset.toUpperCase() === 'Z') return local;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0);
  return local - sign * minutes * 60_000;
}

/** Splits one CSV record (RFC 4180 quoting; a record does not span lines). */
function splitCsv(line: string, delimiter: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else value += line[i++];
      }
      out.push(value);
      const next = line.indexOf(delimiter, i);
      i = next === -1 ? line.length + 1 : next + 1;
    } else {
      const next = line.indexOf(delimiter, i);
      const stop = next === -1 ? line.length : next;
      out.push(line.slice(i, stop));
      i = stop + 1;
    }
  }
  return out;
}

function pick(record: unknown, path: string): unknown {
  let v: unknown = record;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * A parser of one JSON-lines or CSV file (make one per file: a CSV file's first line is its
 * header). Records pass through the declared field mapping into the sink.
 */
export function delimitedParser(
  format: DelimitedFormat,
  clock: LocalClock,
  sink: RecordSink,
  now: number,
): LineParser {
  const incoming = new Set(format.values.in);
  const completedValues = new Set(format.values.completed);
  const f = format.fields;
  let columns: Map<string, number> | undefined;

  const emit = (get: (field: string) => unknown): string | undefined => {
    const at = timeOf(get(f.at), format.time, clock);
    if (!Number.isFinite(at)) return `${f.at} is not a time written as ${format.time}`;
    const impossible = impossibleTime(at, now);
    if (impossible !== undefined) return `${f.at}: ${impossible}`;
    const account = get(f.account);
    if (account === undefined || account === null || account === '')
      return `${f.account} is missing`;
    const bytes = f.bytes === undefined ? 0 : Number(get(f.bytes) ?? 0);
    if (!Number.isFinite(bytes) || bytes < 0) return `${f.bytes} is not a number of bytes`;
    const dir = f.direction === undefined ? undefined : get(f.direction);
    const done = f.completed === undefined ? undefined : get(f.completed);
    sink.add(
      at,
      bytes,
      String(account),
      dir === undefined || incoming.has(String(dir)),
      done === undefined || completedValues.has(String(done)),
    );
    return undefined;
  };

  if (format.kind === 'jsonl')
    return (buf, start, end) => {
      let record: unknown;
      try {
        record = JSON.parse(buf.toString('utf8', start, end));
      } catch {
        return 'not a JSON object';
      }
      if (record === null || typeof record !== 'object' || Array.isArray(record))
        return 'not a JSON object';
      return emit((field) => pick(record, field));
    };

  return (buf, start, end) => {
    const line = buf.toString('utf8', start, end).replace(/\r$/, '');
    const cells = splitCsv(line, format.delimiter);
    if (columns === undefined) {
      columns = new Map(cells.map((c, i) => [c.trim(), i]));
      const missing = [f.at, f.account, f.bytes, f.direction, f.completed].filter(
        (c) => c !== undefined && !columns?.has(c),
      );
      if (missing.length > 0) {
        columns = undefined;
        return `the header line has no column ${missing.join(', ')}`;
      }
      return undefined;
    }
    const index = columns;
    return emit((field) => {
      const i = index.get(field);
      return i === undefined ? undefined : cells[i];
    });
  };
}
