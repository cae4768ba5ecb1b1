/**
 * `fn` over `items` with at most `limit` calls under way at once; the results in the items'
 * order. The first rejection rejects the whole (calls already started run to their end, no new
 * one starts).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`mapLimit: limit ${limit} is not a positive integer`);
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const k = next++;
      try {
        results[k] = await fn(items[k] as T, k);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * {@link mapLimit} whose results are one promise per item, each settled as soon as its call is
 * done: a consumer takes them in order while later calls are still under way. After the first
 * rejection no new call starts, and the items not started reject with that error. Nothing is
 * left as an unhandled rejection when a consumer stops early.
 */
export function mapLimitEach<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R>[] {
  if (!Number.isInteger(limit) || limit < 1)
    throw new Error(`mapLimitEach: limit ${limit} is not a positive integer`);
  const settle = items.map(() => {
    let resolve!: (r: R) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<R>((a, b) => {
      resolve = a;
      reject = b;
    });
    promise.catch(() => {});
    return { promise, resolve, reject };
  });
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      const s = settle[k] as (typeof settle)[number];
      if (failure) {
        s.reject(failure.err);
        continue;
      }
      try {
        s.resolve(await fn(items[k] as T, k));
      } catch (err) {
        failure ??= { err };
        s.reject(err);
      }
    }
  };
  for (let i = 0; i < Math.min(limit, items.length); i++) void worker();
  return settle.map((s) => s.promise);
}
