import { resolve } from 'node:path';
import { ExitCode } from '../../errors/index.ts';
import { generateKeyPair, writeKeyPair } from '../../signing/index.ts';
import type { CommandResult } from '../types.ts';

export interface KeysGenerateOptions {
  out: string;
  name?: string;
}

/** `uplift keys generate --out BASE`: a new ed25519 pair, BASE.key (0600) and BASE.pub. */
export async function generate(opts: KeysGenerateOptions): Promise<CommandResult> {
  const pair = generateKeyPair();
  const files = await writeKeyPair(pair, resolve(opts.out), opts.name);
  const data = { keyid: pair.publicKey.keyid, public: pair.publicKey.public, ...files };
  const text = [
    `New ed25519 key ${pair.publicKey.keyid}`,
    `  private  ${files.privateFile}  (mode 0600: keep it secret, sign packs with --key)`,
    `  public   ${files.publicFile}  (give it to operators: uplift pack verify --trust)`,
    '',
  ].join('\n');
  return { data, text, exitCode: ExitCode.ok };
}
