import { readFacts, resolveProfile } from '../plan/index.ts';
import { profileArg } from './profile-arg.ts';

/** The options of the commands that read an installation's facts against a product profile. */
export interface ProfileFactsOptions {
  profile?: string;
  install?: string;
  /** A facts file laid over what detection reads. */
  facts?: string;
  /** `--fact key=value` flags, laid over both. */
  fact: string[];
  /** `--allow-undeclared`: facts the profile does not declare are warnings, not errors. */
  allowUndeclared?: boolean;
}

/**
 * The profile the options name (or the one recorded for `--install`, or that recognises it), the
 * installation's facts, and warnings about the profile (src/cli/profile-arg.ts) and the facts.
 */
export async function readProfileFacts(opts: ProfileFactsOptions) {
  const arg = await profileArg(opts);
  const profile = await resolveProfile({ ...opts, profile: arg.profile });
  const facts = await readFacts(profile, {
    install: opts.install,
    factsFile: opts.facts,
    factFlags: opts.fact,
    allowUndeclared: opts.allowUndeclared,
    warnings: arg.warnings,
  });
  return { profile, facts, warnings: arg.warnings };
}
