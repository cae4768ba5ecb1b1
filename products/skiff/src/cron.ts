/** A parsed cron expression: the allowed values of each field. */
export interface CronSchedule {
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  /** cron(5): when both day fields are restricted, a day matches if either matches. */
  anyDay: boolean;
}

const macros: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const ranges: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

function parseField(text: string, [min, max]: [number, number]): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`"${part}" is not a cron field (use *, N, N-M, */S or lists)`);
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] === undefined ? (m[4] ? max : from) : Number(m[3]);
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < min || to > max || from > to || step < 1) {
      throw new Error(`"${part}" is outside ${min}-${max}`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Parses five-field cron syntax (numbers, ranges, steps, lists) and the @daily-style macros. */
export function parseCron(expr: string): CronSchedule {
  const fields = (macros[expr.trim()] ?? expr).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`"${expr}" needs 5 fields, has ${fields.length}`);
  const [mi, h, dom, mon, dow] = fields.map((f, i) => parseField(f, ranges[i] as [number, number]));
  if (!mi || !h || !dom || !mon || !dow) throw new Error('unreachable: five fields were checked');
  if (dow.has(7)) dow.add(0);
  return {
    minutes: mi,
    hours: h,
    daysOfMonth: dom,
    months: mon,
    daysOfWeek: dow,
    anyDay: fields[2] !== '*' && fields[4] !== '*',
  };
}

/** Whether the schedule fires in the local-time minute of `d`. */
export function matchesCron(s: CronSchedule, d: Date): boolean {
  const dom = s.daysOfMonth.has(d.getDate());
  const dow = s.daysOfWeek.has(d.getDay());
  return (
    s.minutes.has(d.getMinutes()) &&
    s.hours.has(d.getHours()) &&
    s.months.has(d.getMonth() + 1) &&
    (s.anyDay ? dom || dow : dom && dow)
  );
}
