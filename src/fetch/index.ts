/**
 * Fetching packs from a repository: the resumable, verifying downloader (HTTP with Range and
 * proxies, or a folder), and `uplift fetch`, which downloads exactly the packs a plan needs.
 * See docs/repository.md.
 */
export {
  type DownloadOptions,
  type DownloadResult,
  downloadFile,
  type Opened,
  type Opener,
} from './download.ts';
export {
  type FetchedPack,
  type FetchOptions,
  type FetchResult,
  fetchLockOf,
  fetchPacks,
} from './fetch.ts';
export { redactUrl } from './http.ts';
export {
  type DownloadProgress,
  downloadProgressPrinter,
  formatDownloadProgress,
} from './progress.ts';
export { openRepository, type RepositorySource, type SourceOptions } from './source.ts';
