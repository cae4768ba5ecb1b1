/**
 * Resolves when a writable that refused a write (`write()` returned false) drains; rejects when it
 * closes first, so a writer waiting on a destroyed archive entry does not wait forever.
 */
export function drained(sink: NodeJS.EventEmitter): Promise<void> {
  return new Promise((res, rej) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', closed);
      res();
    };
    const closed = () => {
      sink.off('drain', done);
      rej(new Error('archive stream closed'));
    };
    sink.once('drain', done);
    sink.once('close', closed);
  });
}
