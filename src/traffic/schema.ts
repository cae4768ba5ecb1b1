import { z } from 'zod';

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Which field of a JSON-lines record or CSV column holds each part of a transfer. Only `at` and
 * `account` must exist; without `bytes` a transfer counts 0 bytes, without `direction` it is
 * incoming, without `completed` it completed.
 */
export const TrafficFields = z.strictObject({
  /** When the transfer ended (see `time` for how it is written). */
  at: z.string().min(1),
  account: z.string().min(1),
  bytes: z.string().min(1).optional(),
  direction: z.string().min(1).optional(),
  completed: z.string().min(1).optional(),
});
export type TrafficFields = z.infer<typeof TrafficFields>;

/**
 * `traffic:` in a profile.yaml (docs/profiles.md, "Traffic"): where an installation keeps its
 * transfer logs and how they are written, so `uplift window --install DIR` reads them without
 * being told.
 */
export const TrafficDeclaration = z
  .strictObject({
    /**
     * The logs, relative to the installation (or absolute); the last segment may be a glob
     * (`var/log/xferlog*`). Rotated files are read oldest first: `x.3.gz`, `x.2`, `x.1`, `x`.
     */
    logs: z.array(z.string().min(1)).min(1),
    /** `xferlog` (wu-ftpd/ProFTPD layout), `jsonl` (one JSON object a line) or `csv` (with a header line). */
    format: z.enum(['xferlog', 'jsonl', 'csv']),
    /**
     * The IANA zone the product writes local times in (xferlog's ctime, ISO times without an
     * offset); default: the zone of the machine uplift runs on.
     */
    zone: z
      .string()
      .refine(isZone, { message: 'not an IANA time zone (e.g. Europe/Paris, UTC)' })
      .optional(),
    /** For `jsonl` and `csv`: the field (a dotted path in JSON) or column holding each part. */
    fields: TrafficFields.optional(),
    /** How `fields.at` is written: ISO 8601 (an offset-less time is local), epoch ms or epoch seconds. */
    time: z.enum(['iso', 'epoch-ms', 'epoch-s']).default('iso'),
    /** The values meaning incoming and completed (any other is outgoing, failed). */
    values: z
      .strictObject({
        in: z.array(z.string()).min(1).default(['in']),
        completed: z.array(z.string()).min(1).default(['completed']),
      })
      .prefault({}),
    /** The CSV field separator. */
    delimiter: z.string().length(1).default(','),
  })
  .superRefine((t, ctx) => {
    if (t.format !== 'xferlog' && t.fields === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['fields'],
        message: `a ${t.format} log needs fields: { at, account } naming where each part is`,
      });
  });
export type TrafficDeclaration = z.infer<typeof TrafficDeclaration>;
