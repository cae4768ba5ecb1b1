import { readFacts, resolveProfile } from '../plan/index.ts';

/** The options of the commands that read an installation's facts against a product profile. */
export interface ProfileFactsOptions {
  profile?: string;
  install?: string;
  /** A facts file laid over what detection reads. */
  facts?: string;
  /** `--fact key=value` flags, laid over both. */
  fact: string[];
}

/** The profile the options name (or the one that recognises `--install`) and the installation's facts. */
export async function readProfileFacts(opts: ProfileFactsOptions) {
  const profile = await resolveProfile(opts);
  const facts = await readFacts(profile, {
    install: opts.install,
    factsFile: opts.facts,
    factFlags: opts.fact,
  });
  return { profile, facts };
}
