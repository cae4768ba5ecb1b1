import dedent from 'dedent';
import { parseCatalog } from '../../src/catalog/load.ts';
import type { UpliftError } from '../../src/errors/index.ts';

/**
 * Pieces of catalog text for the loader's tables (src/catalog/*.test.ts): a case writes only what
 * it is about and gets the rest from here, so that line and column numbers in its expectations
 * count from a known start.
 */

/** The file name the texts are parsed as. */
export const demoCatalogFile = 'demo/catalog.yaml';

/** Lines 1–8: a dotted-patch product with three releases; a case's own text starts on line 9. */
export const demoHeader = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
  releases:
    - { version: 5.3.0 GA, kind: ga }
    - { version: 5.3.0 Patch 1, kind: patch }
    - { version: 5.4 GA, kind: ga }
`;

/** A durations block with every phase, for texts that do not give their own. */
export const demoDurations = dedent`
  durations:
    downloadBytesPerSecond: 1000000
    backup: { seconds: 60 }
    stop: { seconds: 10 }
    apply: { seconds: 60 }
    migrate: { seconds: 0 }
    start: { seconds: 20 }
    validate: { seconds: 300 }
    rollback: { seconds: 120 }
`;

/** Test data is wholly illustrative (docs/catalog.md, provenance); appended last. */
export const whollyIllustrative = 'illustrative: true\nreason: a catalog written for a test';

/** `text`, then the durations and the illustrative mark, parsed. */
export function parseDemo(text: string) {
  return parseCatalog(`${text}\n${demoDurations}\n${whollyIllustrative}\n`, demoCatalogFile);
}

/** What `parse` throws on the catalog; a test failure when it is accepted. */
export async function refusalOf(parse: () => unknown): Promise<UpliftError> {
  try {
    await parse();
  } catch (err) {
    return err as UpliftError;
  }
  throw new Error('expected the catalog to be refused');
}
