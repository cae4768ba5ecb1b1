import dedent from 'dedent';
import { type LoadedCatalog, parseCatalog } from '../../src/catalog/index.ts';

const head = dedent`
  catalog: 1
  product: demo
  title: Demo
  versionScheme: dotted-patch
`;

/** Test data: the whole catalog is illustrative (docs/catalog.md, provenance). */
const wholly = 'illustrative: true\nreason: a catalog written for a test';

/**
 * A catalog of the product `demo` (dotted-patch versions), parsed as `demo.yaml`, from its
 * top-level sections (releases, upgrade, durations, …) in order, each written unindented.
 */
export async function demoCatalog(...sections: string[]): Promise<LoadedCatalog> {
  // Appended, not in the head, so line numbers in a test's sections stay as written.
  return parseCatalog([head, ...sections, wholly, ''].join('\n'), 'demo.yaml');
}
