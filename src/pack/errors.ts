import { type UpliftCode, UpliftError } from '../errors/index.ts';

/** What to do about each failure, unless the call site knows better. */
const hints: Partial<Record<UpliftCode, string>> = {
  UPLIFT_PACK_NOT_A_PACK: 'Give a pack built by `uplift pack build` (it starts with UPLIFTPK).',
  UPLIFT_PACK_TRUNCATED: 'The pack is incomplete: download it again (uplift fetch resumes).',
  UPLIFT_PACK_TRAILING_DATA:
    'Bytes follow the payload: the file was appended to or is not this pack; download it again.',
  UPLIFT_PACK_METADATA_TOO_LARGE:
    'The pack declares a manifest or signature beyond the limits; it was not built by uplift. Get the pack from its repository again.',
  UPLIFT_PACK_MANIFEST_INVALID:
    'The signed manifest does not follow uplift-pack/1; rebuild the pack with this version of uplift.',
  UPLIFT_PACK_SIGNATURE_MISSING: 'Use a signed pack: build it with `uplift pack build --key`.',
  UPLIFT_PACK_SIGNATURE_INVALID:
    'The manifest or its signature was changed after signing: download the pack again, and never edit a pack.',
  UPLIFT_PACK_KEY_UNTRUSTED:
    "Add the release key's .pub to the trust given with --trust (or UPLIFT_TRUST), if you trust its publisher.",
  UPLIFT_PACK_KEY_REVOKED:
    'The key that signed this pack was revoked: get a pack signed with a current key.',
  UPLIFT_PACK_CORRUPT: 'The pack is damaged: download it again.',
  UPLIFT_PACK_ENTRY_UNLISTED:
    'The payload holds a file its manifest does not list; do not use this pack, report it to its publisher.',
  UPLIFT_PACK_ENTRY_MISSING:
    'The payload lacks a file its manifest lists; do not use this pack, report it to its publisher.',
  UPLIFT_PACK_ENTRY_DUPLICATE:
    'A name occurs twice; do not use this pack, report it to its publisher.',
  UPLIFT_PACK_UNSAFE_PATH:
    'The pack names a path outside the installation or an unusable name; do not use this pack.',
  UPLIFT_PACK_UNSAFE_ENTRY:
    'Packs hold only regular files with ordinary modes; do not use this pack.',
  UPLIFT_PACK_SIZE_EXCEEDED:
    'The payload unpacks to more than its manifest says (a zip bomb or a damaged pack); do not use it.',
  UPLIFT_PACK_WRONG_PLATFORM: "Fetch the pack built for this node's platform.",
  UPLIFT_PACK_FROM_MISMATCH:
    'Use the pack for the installed version (uplift plan names the pack of each hop).',
  UPLIFT_PACK_DOWNGRADE:
    'The installation is already at or past the version this pack brings; pick a pack to a newer version.',
  UPLIFT_PACK_MIGRATION_PATH:
    "A migration names a path outside the installation's data (paths.data, paths.databases) or one that could escape; do not use this pack, report it to its publisher.",
  UPLIFT_PACK_EXPANSION:
    'The pack declares far more unpacked bytes than it holds (a decompression bomb?); if you expect that, raise the limit with --max-expand RATIO.',
  UPLIFT_PACK_STAGING_FAILED:
    'Give --stage a new directory, on a filesystem with room for the pack (space.stage in uplift pack inspect).',
};

/** A verification failure: names the pack file, and guarantees nothing was left behind. */
export function packError(
  code: UpliftCode,
  file: string,
  message: string,
  opts: { path?: string; hint?: string; cause?: unknown } = {},
): UpliftError {
  return new UpliftError(code, `${file}: ${message}`, {
    hint: opts.hint ?? hints[code],
    location: { file, path: opts.path },
    cause: opts.cause,
    unchanged: true,
  });
}

/** JSON-quoted, so a hostile name cannot inject lines into a log or a terminal. */
export function q(name: string): string {
  return JSON.stringify(name);
}
