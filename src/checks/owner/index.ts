import { shellWord } from '../../errors/index.ts';
import { fail, listSome, pass, plural, skip, warn } from '../result.ts';
import type { Check, CheckContext, CheckResult } from '../types.ts';

export const id = 'owner';

async function run(ctx: CheckContext): Promise<CheckResult> {
  const me = ctx.host.uid;
  if (me === undefined) return skip('this platform has no Unix user ids');
  const owner = ctx.facts.owner;
  if (owner?.uid === undefined) {
    return warn(
      'the owner of the installation is unknown',
      `run uplift as the user that owns ${ctx.install}`,
    );
  }
  const ownerName = owner.user ?? `uid ${owner.uid}`;
  const runningAs = ctx.facts.runningAs;
  const meName = (runningAs?.uid === me ? runningAs.user : undefined) ?? `uid ${me}`;
  const details = { ownerUid: owner.uid, owner: owner.user, uid: me, user: meName };
  if (owner.uid !== me) {
    const asOwner = `run uplift as ${ownerName}: put sudo -u ${owner.user ?? `'#${owner.uid}'`} in front of the same uplift command`;
    if (me === 0) {
      // The reference: "upgrading a non-root installation as root reports success but leaves
      // wrong file permissions and a corrupt installation".
      return fail(
        `the installation belongs to ${ownerName}, but uplift runs as root: upgrading a non-root installation as root reports success but leaves wrong file permissions and a corrupt installation`,
        asOwner,
        details,
      );
    }
    return fail(
      `the installation belongs to ${ownerName}, but uplift runs as ${meName}, who cannot upgrade it in place`,
      asOwner,
      details,
    );
  }
  // Files owned by someone else are the usual trace of an earlier upgrade run as root.
  const foreign = owner.foreignFiles ?? 0;
  if (foreign > 0) {
    const sample = owner.foreignSample ?? [];
    return warn(
      `uplift runs as the owner ${ownerName}, but ${plural(foreign, 'file')} of the installation ${foreign === 1 ? 'belongs' : 'belong'} to another user${sample.length > 0 ? ` (${listSome(sample, 3)})` : ''}`,
      `give them back to ${ownerName}:\nchown -R ${owner.user ?? owner.uid} ${shellWord(ctx.install)}`,
      { ...details, foreignFiles: foreign, foreignSample: sample },
    );
  }
  return pass(`uplift runs as ${meName}, the owner of the installation`, details);
}

export const api: Check = { id, title: 'Run as the user that owns the installation', run };
