import type { LoadedCatalog } from '../catalog/index.ts';
import { UpliftError } from '../errors/index.ts';

/**
 * Which releases a plan may land on: published ones (not `announced`) of the chosen channel. The
 * planner sees the rest through extra `blocked` rules on a view of the catalog, so a hop, edge or
 * stop that would reach one is removed like any blocked hop, and a path that cannot avoid one ends
 * in `blocked` with the reason quoted (docs/catalog.md, "channels" and "announced").
 */
export interface Availability {
  /** The catalog as the planner should see it. */
  catalog: LoadedCatalog;
  /** The channel planned in; undefined for a catalog without channels. */
  channel: string | undefined;
  /** The newest release the plan may land on, for `--to latest` (the newest listed when none is). */
  latest: string;
  /** Announced releases above `from`, with their expected dates. */
  announcedAbove(from: string): { version: string; date?: string }[];
}

const views = new WeakMap<LoadedCatalog, Map<string, Availability>>();

/** The availability of `channel` (default: the catalog's default channel); cached per catalog. */
export function availabilityOf(c: LoadedCatalog, requested: string | undefined): Availability {
  const channel = channelOf(c, requested);
  let byChannel = views.get(c);
  if (!byChannel) {
    byChannel = new Map();
    views.set(c, byChannel);
  }
  const key = channel ?? '';
  let a = byChannel.get(key);
  if (!a) {
    a = build(c, channel);
    byChannel.set(key, a);
  }
  return a;
}

/** Refuses a target outside the channel: it is a usage error, not a verdict. */
export function checkTargetInChannel(a: Availability, c: LoadedCatalog, to: string): void {
  const channels = c.releases.get(to)?.channels;
  if (a.channel === undefined || !channels || channels.includes(a.channel)) return;
  throw new UpliftError(
    'UPLIFT_PLAN_NOT_IN_CHANNEL',
    `${to} is not in the ${a.channel} channel of the ${c.catalog.product} catalog (it is in ${channels.join(', ')})`,
    {
      hint: `plan with --channel ${channels[0]}, or choose a target of the ${a.channel} channel (--to latest takes its newest)`,
    },
  );
}

function channelOf(c: LoadedCatalog, requested: string | undefined): string | undefined {
  const declared = c.catalog.channels ?? [];
  if (requested === undefined) return (declared.find((ch) => ch.default) ?? declared[0])?.id;
  if (declared.some((ch) => ch.id === requested)) return requested;
  throw new UpliftError(
    'UPLIFT_PLAN_UNKNOWN_CHANNEL',
    declared.length > 0
      ? `the ${c.catalog.product} catalog has no channel "${requested}"`
      : `the ${c.catalog.product} catalog has no channels, so --channel ${requested} cannot be chosen`,
    {
      hint:
        declared.length > 0
          ? `use --channel with one of ${declared.map((ch) => ch.id).join(', ')}`
          : 'leave out --channel',
    },
  );
}

function build(c: LoadedCatalog, channel: string | undefined): Availability {
  const announced = new Set<string>();
  const outside = new Set<string>();
  for (const [v, r] of c.releases) {
    if (r.announced) announced.add(v);
    if (channel !== undefined && r.channels && !r.channels.includes(channel)) outside.add(v);
  }
  const any = { source: '*', matches: () => true };
  const blocked = [...c.blocked];
  if (announced.size > 0)
    blocked.push({
      from: any,
      to: { source: 'announced', matches: (v: string) => announced.has(v) },
      reason: `the way on reaches a release that is announced and not yet published (${[...announced].join(', ')})`,
    });
  if (outside.size > 0)
    blocked.push({
      from: any,
      to: { source: `not in ${channel}`, matches: (v: string) => outside.has(v) },
      reason: `the way on reaches a release outside the ${channel} channel`,
    });
  const usable = (v: string) => !announced.has(v) && !outside.has(v);
  const latest = [...c.versions].reverse().find(usable) ?? (c.versions.at(-1) as string);
  return {
    catalog: blocked.length === c.blocked.length ? c : { ...c, blocked },
    channel,
    latest,
    announcedAbove: (from) =>
      [...announced]
        .filter((v) => c.scheme.compare(v, from) > 0)
        .sort((a, b) => c.scheme.compare(a, b))
        .map((version) => {
          const date = c.releases.get(version)?.date;
          return date ? { version, date } : { version };
        }),
  };
}

/** The plan's `announced` field: present only when the catalog announces releases above `from`. */
export function announcedOf(
  a: Availability,
  from: string,
): { announced?: { version: string; date?: string }[] } {
  const announced = a.announcedAbove(from);
  return announced.length > 0 ? { announced } : {};
}
