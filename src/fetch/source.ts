import { createReadStream } from 'node:fs';
import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { UpliftError } from '../errors/index.ts';
import { type MetadataReader, maxMetadataBytes } from '../repo/index.ts';
import type { Opener } from './download.ts';
import {
  backoffDelay,
  classifyNetworkError,
  openHttp,
  proxyAwareAgent,
  type ReadLimits,
  redactUrl,
} from './http.ts';

/** A repository to read metadata from and download files from: a static HTTP site or a folder. */
export interface RepositorySource {
  /** The address for messages, credentials removed. */
  name: string;
  /** The canonical address that names this repository's client state. */
  id: string;
  reader: MetadataReader;
  /** Opens `path` (e.g. `packs/x.upk`) for {@link downloadFile}. */
  opener(path: string): Opener;
  close(): Promise<void>;
}

export interface SourceOptions extends ReadLimits {
  retries: number;
  backoffMs?: number;
}

/** An `http(s)://` URL, a `file://` URL or a folder path. */
export async function openRepository(spec: string, o: SourceOptions): Promise<RepositorySource> {
  if (/^https?:\/\//i.test(spec)) return httpSource(spec, o);
  const dir = resolve(spec.startsWith('file:') ? fileURLToPath(spec) : spec);
  const st = await stat(dir).catch(() => undefined);
  if (st && !st.isDirectory())
    throw new UpliftError(
      'UPLIFT_FILE_UNREADABLE',
      `${dir} is not a repository folder: it is a file`,
      {
        hint: "Give --repo your repository's http(s):// URL or its folder; repo init makes a new one:\nuplift repo init --help",
        location: { file: dir },
      },
    );
  if (!st)
    throw new UpliftError('UPLIFT_FILE_NOT_FOUND', `repository folder ${dir} does not exist`, {
      hint: "Give --repo your repository's http(s):// URL or its folder; repo init makes a new one:\nuplift repo init --help",
      location: { file: dir },
    });
  return folderSource(await realpath(dir));
}

function folderSource(dir: string): RepositorySource {
  return {
    name: dir,
    id: `file://${dir}`,
    reader: {
      name: dir,
      async read(path) {
        const file = join(dir, path);
        const st = await lstat(file).catch(() => undefined);
        if (!st) return undefined;
        if (st.size > maxMetadataBytes) return Buffer.alloc(maxMetadataBytes + 1);
        return readFile(file);
      },
    },
    opener(path) {
      const file = join(dir, path);
      return async (offset) => {
        const st = await lstat(file).catch(() => undefined);
        if (!st?.isFile())
          throw new UpliftError(
            'UPLIFT_REPO_INVALID',
            `${dir}: the index lists ${path}, but the repository does not hold it`,
            { hint: 'Tell the repository owner: publish lists only files that are there.' },
          );
        return {
          kind: 'partial',
          start: offset,
          total: st.size,
          body: createReadStream(file, { start: offset, highWaterMark: 1 << 20 }),
        };
      };
    },
    close: async () => undefined,
  };
}

function httpSource(spec: string, o: SourceOptions): RepositorySource {
  const base = new URL(spec.endsWith('/') ? spec : `${spec}/`);
  const name = redactUrl(base);
  const canonical = new URL(base.href);
  canonical.username = '';
  canonical.password = '';
  canonical.hash = '';
  const agent: Dispatcher = proxyAwareAgent(o.timeoutMs);
  const urlOf = (path: string) => new URL(path, base);
  return {
    name,
    id: canonical.href,
    reader: {
      name,
      read: (path) => readSmall(urlOf(path), agent, o),
    },
    opener(path) {
      return (offset, validator, signal) =>
        openHttp(urlOf(path), {
          dispatcher: agent,
          limits: o,
          offset,
          validator,
          signal,
        });
    },
    close: () => agent.close(),
  };
}

/**
 * A metadata file over HTTP, through the same read path and limits as every download: 404 is
 * "not there", and more than the metadata limit is refused.
 */
async function readSmall(
  url: URL,
  dispatcher: Dispatcher,
  o: SourceOptions,
): Promise<Buffer | undefined> {
  const what = redactUrl(url);
  for (let attempt = 0; ; attempt++) {
    try {
      const opened = await openHttp(url, { dispatcher, limits: o, maxBytes: maxMetadataBytes });
      const chunks: Buffer[] = [];
      let n = 0;
      try {
        for await (const chunk of opened.body) {
          n += chunk.length;
          chunks.push(Buffer.from(chunk));
          if (n > maxMetadataBytes) {
            opened.body.destroy();
            break;
          }
        }
      } catch (err) {
        throw classifyNetworkError(err, what);
      }
      return Buffer.concat(chunks);
    } catch (err) {
      const f = classifyNetworkError(err, what);
      if (f.status === 404 || f.status === 410) return undefined;
      if (!f.retryable || attempt >= o.retries) {
        if (f.timeout)
          throw new UpliftError(
            'UPLIFT_FETCH_TIMEOUT',
            `${f.message} (gave up after ${attempt + 1} attempt(s))`,
            {
              hint: 'The repository server stalled; try again later or raise --timeout.',
            },
          );
        throw new UpliftError(
          'UPLIFT_FETCH_HTTP',
          `${f.message} (gave up after ${attempt + 1} attempt(s))`,
          {
            hint: 'Check --repo and the network (HTTPS_PROXY / NO_PROXY).',
          },
        );
      }
      await sleep(backoffDelay(attempt, f.retryAfterMs, o.backoffMs));
    }
  }
}
