import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ExitCode, shellWord, UpliftError } from '../../errors/index.ts';
import { generateKeyPair, writeKeyPair } from '../../signing/index.ts';
import type { CommandResult } from '../types.ts';

export interface KeysGenerateOptions {
  out: string;
  name?: string;
}

/** `uplift keys generate --out BASE`: a new ed25519 pair, BASE.key (0600) and BASE.pub. */
export async function generate(opts: KeysGenerateOptions): Promise<CommandResult> {
  const base = resolve(opts.out);
  const isFolder =
    /[/\\]$/.test(opts.out) || (await stat(base).catch(() => undefined))?.isDirectory() === true;
  if (isFolder)
    throw new UpliftError('UPLIFT_USAGE', `--out ${opts.out} is a folder: give a base name in it`, {
      hint: `Name the two files (this writes release.key and release.pub in it):\nuplift keys generate --out ${shellWord(`${opts.out.replace(/[/\\]*$/, '')}/release`)}`,
      location: { file: opts.out },
    });
  const pair = generateKeyPair();
  const files = await writeKeyPair(pair, base, opts.name);
  const data = { keyid: pair.publicKey.keyid, public: pair.publicKey.public, ...files };
  const text = [
    `New ed25519 key ${pair.publicKey.keyid}`,
    `  private  ${files.privateFile}  (mode 0600: keep it secret, sign packs with --key)`,
    `  public   ${files.publicFile}  (give it to operators: pack verify and apply take it as --trust)`,
    '',
  ].join('\n');
  return { data, text, exitCode: ExitCode.ok };
}
