import { IANAZone } from 'luxon';
import { UpliftError } from '../errors/index.ts';

/** The machine's own IANA zone (`TZ` when set), the default for logs written in local time. */
export function machineZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * Turns wall-clock times of one IANA zone into UTC instants, the way a log written in local time
 * must be read. Offsets come from luxon and are cached per local hour: a log is written in time
 * order, so nearly every line asks for the hour of the line before; hours near a change of
 * offset are read minute by minute.
 *
 * Across a fall-back change the local hour happens twice. A log only says "02:30"; the lines
 * before it tell which: a log is written in time order, so the later (standard-time) reading is
 * taken once the earlier one would put a line more than a minute before the line read just before
 * it, and kept for the rest of that hour. A spring-forward gap cannot be written by a clock; such
 * a time is read with the offset before the change.
 */
export class LocalClock {
  readonly zone: string;
  private readonly iana: IANAZone;
  private hourKey = Number.NaN;
  private hourOffset = 0;
  private hourUniform = false;
  private minuteKey = Number.NaN;
  /** Offsets (ms) of the cached minute: one, or two when the minute happens twice. */
  private early = 0;
  private late = 0;
  private last = Number.NEGATIVE_INFINITY;
  private lastWasLate = false;

  constructor(zone: string = machineZone()) {
    if (!IANAZone.isValidZone(zone))
      throw new UpliftError('UPLIFT_TRAFFIC_ZONE_INVALID', `"${zone}" is not an IANA time zone`, {
        hint: 'give the zone the log was written in as an IANA name, e.g. Europe/Paris or UTC',
      });
    this.zone = zone;
    this.iana = IANAZone.create(zone);
  }

  /** The UTC instant (epoch ms) of a wall-clock time given as epoch ms "as if UTC". */
  toUtc(local: number): number {
    const hour = Math.floor(local / 3_600_000);
    let at: number;
    if (hour !== this.hourKey) this.cacheHour(hour);
    if (this.hourUniform) at = local - this.hourOffset;
    else {
      const minute = Math.floor(local / 60_000);
      if (minute !== this.minuteKey) this.cacheMinute(minute);
      at = local - this.early;
      if (this.late === this.early) this.lastWasLate = false;
      else if (this.lastWasLate || this.last - at > 60_000) {
        at = local - this.late;
        this.lastWasLate = true;
      }
    }
    this.last = at;
    return at;
  }

  private offset(ts: number): number {
    return this.iana.offset(ts) * 60_000;
  }

  /**
   * Caches what is known of a local hour: uniform when one offset holds 14 hours either side of
   * it (no change can touch it); an hour near a change is read minute by minute.
   */
  private cacheHour(hour: number): void {
    const local = hour * 3_600_000;
    const before = this.offset(local - 50_400_000);
    const after = this.offset(local + 50_400_000);
    this.hourKey = hour;
    this.hourUniform = before === after;
    this.hourOffset = before;
    if (this.hourUniform) this.lastWasLate = false;
  }

  private cacheMinute(minute: number): void {
    const local = minute * 60_000;
    const before = this.offset(local - 50_400_000);
    const after = this.offset(local + 50_400_000);
    const fits = (o: number) => this.offset(local - o) === o;
    const candidates = [before, after].filter(fits);
    // Largest offset first: the earlier UTC reading of a minute that happens twice.
    candidates.sort((a, b) => b - a);
    this.early = candidates[0] ?? before;
    this.late = candidates[1] ?? this.early;
    this.minuteKey = minute;
  }
}
