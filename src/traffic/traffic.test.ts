import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Transfer } from '../../products/skiff/src/tracking.ts';
import { formatCtime, formatXferlogLine } from '../../products/skiff/src/xferlog.ts';
import { writeXferlog } from '../../test/util/traffic-log.ts';
import {
  buildTrafficProfile,
  readTrafficProfile,
  readTransferLogs,
  SLOTS_PER_WEEK,
  slotOf,
  type TransferRecord,
} from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'uplift-traffic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` with the process's local time zone set to `zone`, as a server there writes its log. */
function inZone<T>(zone: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

let n = 0;
function transfer(end: number, over: Partial<Transfer> = {}): Transfer {
  n++;
  return {
    id: String(n),
    account: 'globex-edi',
    path: `/inbound/ORDERS ${n}.edi`,
    bytes: 1000 + n,
    sha256: '',
    direction: 'in',
    status: 'completed',
    start: end - 2500,
    end,
    ...over,
  };
}

/** Lines as skiff writes them, in `zone`'s local time. */
function skiffLines(zone: string, transfers: Transfer[]): string {
  return inZone(zone, () =>
    transfers.map((t) => `${formatXferlogLine(t, '127.0.0.1')}\n`).join(''),
  );
}

function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

async function records(files: string[], zone: string): Promise<TransferRecord[]> {
  const out: TransferRecord[] = [];
  for await (const r of readTransferLogs(files, { zone })) out.push(r);
  return out;
}

const utc = (iso: string) => Date.parse(iso);

describe('reading xferlog', () => {
  it("reads skiff's own lines back to the transfers' UTC instants, to the second", async () => {
    const transfers = [
      transfer(utc('2026-11-06T19:52:33.400Z')),
      transfer(utc('2026-11-06T23:10:00.000Z'), {
        account: 'acme-payroll',
        direction: 'out',
        status: 'failed',
        bytes: 0,
      }),
      transfer(utc('2026-11-07T00:00:59.999Z'), { account: 'initech-reports' }),
    ];
    const log = file('skiff.xferlog', skiffLines('America/New_York', transfers));

    const got = await records([log], 'America/New_York');

    expect(got).toEqual(
      transfers.map((t) => ({
        at: Math.floor(t.end / 1000) * 1000,
        bytes: t.bytes,
        account: t.account,
        direction: t.direction,
        completed: t.status === 'completed',
      })),
    );
  });

  it('reads the same records from a gzip of the log (told by its magic bytes, not its name)', async () => {
    const text = skiffLines(
      'Europe/Paris',
      Array.from({ length: 500 }, (_, i) => transfer(utc('2026-06-01T08:00:00Z') + i * 61_000)),
    );
    const plain = file('plain.log', text);
    const gz = file('compressed.log', gzipSync(text));

    const [a, b] = await Promise.all([
      records([plain], 'Europe/Paris'),
      records([gz], 'Europe/Paris'),
    ]);

    expect(b).toHaveLength(500);
    expect(b).toEqual(a);
  });

  it('reads several files in the order given, and names them in the profile', async () => {
    const all = Array.from({ length: 300 }, (_, i) =>
      transfer(utc('2026-06-01T08:00:00Z') + i * 97_000, { account: `a${i % 7}` }),
    );
    const older = file('xferlog.1.gz', gzipSync(skiffLines('UTC', all.slice(0, 120))));
    const live = file('xferlog.live', skiffLines('UTC', all.slice(120)));
    const whole = file('xferlog.whole', skiffLines('UTC', all));

    const split = await readTrafficProfile([older, live], { zone: 'UTC' });
    const one = await readTrafficProfile([whole], { zone: 'UTC' });

    expect(split.sources).toEqual([older, live]);
    expect(split.records).toBe(300);
    expect(split.slots).toEqual(one.slots);
    expect(split.from).toBe(Math.floor((all[0] as Transfer).end / 1000) * 1000);
    expect((await records([older, live], 'UTC')).map((r) => r.at)).toEqual(
      all.map((t) => Math.floor(t.end / 1000) * 1000),
    );
  });

  it('counts bad lines and keeps the first few with file, line and reason', async () => {
    const good = Array.from({ length: 40 }, (_, i) =>
      skiffLines('UTC', [transfer(utc('2026-06-01T08:00:00Z') + i * 60_000)]),
    );
    good.splice(3, 0, 'Mon Jun  1 08:03:00 2026 1 127.0.0.1 12x4 /a b _ i r x http 0 * c\n');
    good.splice(10, 0, 'garbage\n');
    good.splice(20, 0, 'Mon Foo  1 08:03:00 2026 1 127.0.0.1 124 /a b _ i r x http 0 * c\n');
    good.splice(25, 0, '\n');
    const log = file('some-bad.log', good.join(''));

    const p = await readTrafficProfile([log], { zone: 'UTC', examples: 2 });

    expect(p.records).toBe(40);
    expect(p.skipped.count).toBe(3);
    expect(p.skipped.examples).toEqual([
      { file: log, line: 4, reason: 'file-size is not a number' },
      { file: log, line: 11, reason: 'too short for an xferlog line' },
    ]);
  });

  it('skips and counts lines whose date is impossible, so they do not stretch the profile', async () => {
    const good = Array.from({ length: 40 }, (_, i) =>
      skiffLines('UTC', [transfer(utc('2026-06-01T08:00:00Z') + i * 60_000)]),
    );
    const tail = '1 127.0.0.1 124 /a b _ i r x http 0 * c\n';
    good.splice(5, 0, `Thu Jun  4 08:03:00 2099 ${tail}`);
    good.splice(10, 0, `Sat Jan  1 00:00:00 0000 ${tail}`);
    good.splice(15, 0, `Fri Jun  1 08:03:00 2026 ${tail}`);
    good.splice(20, 0, `Mon Feb 30 08:03:00 2026 ${tail}`);
    const log = file('impossible-dates.log', good.join(''));

    const p = await readTrafficProfile([log], { zone: 'UTC' });

    expect(p.records).toBe(40);
    expect(p.to).toBeLessThan(utc('2026-06-02T00:00:00Z'));
    expect(p.skipped.count).toBe(4);
    expect(p.skipped.examples.map((e) => e.line)).toEqual([6, 11, 16, 21]);
    expect(Math.max(...p.weeksCovered)).toBe(1);
  });

  it.each([
    ['a text file', 'hello\nthis is not\na transfer log\n'.repeat(400)],
    ['a binary file', randomBytes(6 * 1_048_576)],
  ])(
    'refuses %s as a log with UPLIFT_TRAFFIC_LOG_INVALID naming the file and line',
    async (name, content) => {
      const f = file(`not-a-log-${name.replace(/ /g, '-')}`, content);

      const error = await readTrafficProfile([f], { zone: 'UTC' }).catch((e: unknown) => e);

      expect(error).toMatchObject({
        code: 'UPLIFT_TRAFFIC_LOG_INVALID',
        location: { file: f, line: 1 },
      });
    },
  );

  it('refuses an endless stream without line ends (/dev/zero) instead of reading it forever', async () => {
    const error = await readTrafficProfile(['/dev/zero'], { zone: 'UTC' }).catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_TRAFFIC_LOG_INVALID',
      location: { file: '/dev/zero', line: 1 },
    });
  }, 10_000);

  it('hands on no record of a file that turns out not to be a log', async () => {
    const good = skiffLines(
      'UTC',
      Array.from({ length: 400 }, (_, i) => transfer(utc('2026-06-01T08:00:00Z') + i * 1000)),
    );
    const f = file('mostly-bad.log', `${good}${'not a transfer\n'.repeat(600)}`);
    const seen: TransferRecord[] = [];

    const error = await (async () => {
      for await (const r of readTransferLogs([f], { zone: 'UTC' })) seen.push(r);
    })().catch((e: unknown) => e);

    expect(error).toMatchObject({
      code: 'UPLIFT_TRAFFIC_LOG_INVALID',
      location: { file: f, line: 401 },
    });
    expect(seen).toEqual([]);
  });

  it('refuses a truncated gzip file with UPLIFT_TRAFFIC_LOG_INVALID', async () => {
    const text = skiffLines(
      'UTC',
      Array.from({ length: 3000 }, (_, i) => transfer(utc('2026-06-01T08:00:00Z') + i * 1000)),
    );
    const gz = gzipSync(text);
    const f = file('cut.gz', gz.subarray(0, gz.length - 200));

    await expect(readTrafficProfile([f], { zone: 'UTC' })).rejects.toMatchObject({
      code: 'UPLIFT_TRAFFIC_LOG_INVALID',
      location: { file: f },
    });
  });

  it('says which file is missing or unreadable, and which zone is unknown', async () => {
    await expect(readTrafficProfile([join(dir, 'nope')])).rejects.toMatchObject({
      code: 'UPLIFT_FILE_NOT_FOUND',
      location: { file: join(dir, 'nope') },
    });
    await expect(readTrafficProfile([dir])).rejects.toMatchObject({
      code: 'UPLIFT_FILE_UNREADABLE',
      location: { file: dir },
    });
    await expect(
      readTrafficProfile([file('z.log', '')], { zone: 'Europe/Atlantis' }),
    ).rejects.toMatchObject({ code: 'UPLIFT_TRAFFIC_ZONE_INVALID' });
  });
});

describe('local time across daylight-saving changes', () => {
  it('maps a Europe/Paris log across the last Sunday of March to the right UTC slots', async () => {
    // 2026-03-29: at 02:00 CET the clocks go to 03:00 CEST (01:00 UTC).
    const ends = [
      utc('2026-03-29T00:59:59Z'), // 01:59:59 CET
      utc('2026-03-29T01:00:00Z'), // 03:00:00 CEST
      utc('2026-03-29T01:14:59Z'), // 03:14:59 CEST
      utc('2026-03-29T01:15:00Z'), // 03:15:00 CEST
    ];
    const log = file(
      'paris-march.log',
      skiffLines(
        'Europe/Paris',
        ends.map((e) => transfer(e)),
      ),
    );
    const text = readFileSync(log, 'utf8');

    const p = await readTrafficProfile([log], { zone: 'Europe/Paris' });

    expect(text).toContain('Sun Mar 29 01:59:59 2026');
    expect(text).toContain('Sun Mar 29 03:00:00 2026');
    // Sunday is day 6 of the week from Monday; 00:45 UTC is its slot 3.
    const sunday = 6 * 96;
    expect(p.slots[sunday + 3]?.transfers).toBe(1);
    expect(p.slots[sunday + 4]?.transfers).toBe(2);
    expect(p.slots[sunday + 5]?.transfers).toBe(1);
    expect(p.slots.reduce((s, x) => s + x.transfers, 0)).toBe(4);
    expect(p.from).toBe(ends[0]);
    expect(p.to).toBe(ends[3]);
  });

  it('tells the two 02:30 of the last Sunday of October apart by the lines before them', async () => {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-02:59 happens twice.
    const ends = [
      utc('2026-10-25T00:20:00Z'), // 02:20 CEST
      utc('2026-10-25T00:30:00Z'), // 02:30 CEST
      utc('2026-10-25T01:10:00Z'), // 02:10 CET
      utc('2026-10-25T01:30:00Z'), // 02:30 CET
      utc('2026-10-25T02:05:00Z'), // 03:05 CET
    ];
    const log = file(
      'paris-october.log',
      skiffLines(
        'Europe/Paris',
        ends.map((e) => transfer(e)),
      ),
    );

    expect((await records([log], 'Europe/Paris')).map((r) => r.at)).toEqual(ends);
  });
});

describe('buildTrafficProfile', () => {
  const rec = (iso: string, account: string, bytes = 10): TransferRecord => ({
    at: utc(iso),
    bytes,
    account,
    direction: 'in',
    completed: true,
  });

  it('folds records into 672 slots from Monday 00:00 UTC, distinct accounts per slot and week', async () => {
    const p = await buildTrafficProfile([
      rec('2026-11-02T00:00:00Z', 'a'), // Monday: slot 0
      rec('2026-11-02T00:14:59Z', 'a', 5),
      rec('2026-11-02T00:10:00Z', 'b'),
      rec('2026-11-08T23:59:59Z', 'a'), // Sunday 23:45: slot 671
      rec('2026-11-09T00:05:00Z', 'a'), // next Monday: slot 0 again, another week
    ]);

    expect(p.slots).toHaveLength(SLOTS_PER_WEEK);
    expect(p.slots[0]).toEqual({ transfers: 4, bytes: 35, accounts: 3 });
    expect(p.slots[671]).toEqual({ transfers: 1, bytes: 10, accounts: 1 });
    expect(p.slots[1]).toEqual({ transfers: 0, bytes: 0, accounts: 0 });
    expect(p.records).toBe(5);
    expect(p.from).toBe(utc('2026-11-02T00:00:00Z'));
    expect(p.to).toBe(utc('2026-11-09T00:05:00Z'));
    // The span covers one whole week and the first slot of the next.
    expect(p.weeksCovered[0]).toBe(2);
    expect(p.weeksCovered[1]).toBe(1);
    expect(p.weeksCovered[671]).toBe(1);
  });

  it('counts an account once per slot even when its lines come hours out of order', async () => {
    const late = Array.from({ length: 20 }, (_, h) =>
      rec(`2026-11-03T${String(h).padStart(2, '0')}:01:00Z`, 'x'),
    );
    const p = await buildTrafficProfile([...late, rec('2026-11-03T00:02:00Z', 'x')]);

    expect(p.slots[96]).toEqual({ transfers: 2, bytes: 20, accounts: 1 });
  });

  it('is empty for no records', async () => {
    const p = await buildTrafficProfile([]);

    expect(p.records).toBe(0);
    expect(p.from).toBeUndefined();
    expect(p.weeksCovered.every((w) => w === 0)).toBe(true);
  });

  it('agrees with slotOf', () => {
    expect(slotOf(utc('2026-11-04T13:37:00Z'))).toBe(2 * 96 + 13 * 4 + 2);
  });
});

describe('the generated log (test/util/traffic-log.ts)', () => {
  it('has its quiet window where it says, in Europe/Paris local time across the March change', async () => {
    const path = join(dir, 'generated.xferlog.gz');
    const counts = await writeXferlog(path, {
      weeks: 4,
      start: '2026-03-09T00:00:00+01:00',
      seed: 7,
      zone: 'Europe/Paris',
      quiet: { day: 0, from: '02:00', to: '05:00' },
      gzip: true,
    });

    const p = await readTrafficProfile([path], { zone: 'Europe/Paris' });

    expect(p.records).toBe(counts.lines);
    expect(p.skipped.count).toBe(0);
    expect(p.from).toBe(counts.from);
    expect(p.to).toBe(counts.to);
    expect(counts.quietIntervals.map((q) => (q.end - q.start) / 3_600_000)).toEqual([3, 3, 2, 3]);
    // In UTC: 01:00-04:00 in winter, 01:00-03:00 on the change day, 00:00-03:00 in summer.
    expect(counts.quietIntervals.map((q) => new Date(q.start).toISOString().slice(11, 16))).toEqual(
      ['01:00', '01:00', '01:00', '00:00'],
    );
    let inQuiet = 0;
    for await (const r of readTransferLogs([path], { zone: 'Europe/Paris' }))
      if (counts.quietIntervals.some((q) => r.at >= q.start && r.at < q.end)) inQuiet++;
    expect(inQuiet).toBe(counts.quietTransfers);
    expect(counts.quietTransfers).toBeLessThan(counts.lines / 10_000);
    // 01:00-03:00 UTC on Sunday is quiet in every one of the weeks: slots 580..587.
    const always = p.slots.slice(6 * 96 + 4, 6 * 96 + 12).reduce((s, x) => s + x.transfers, 0);
    const around = p.slots.slice(6 * 96 + 12, 6 * 96 + 20).reduce((s, x) => s + x.transfers, 0);
    expect(always * 20).toBeLessThan(around);
    const counted = p.slots.reduce((s, x) => s + x.transfers, 0);
    expect(counted).toBe(counts.lines);
    expect(Math.max(...p.slots.map((s) => s.accounts))).toBeGreaterThan(4);
    expect(formatCtime(new Date(0)).length).toBe(24);
  });
});
