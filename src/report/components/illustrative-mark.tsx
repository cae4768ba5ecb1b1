import { illustrativeWord } from '../provenance.ts';

/** The mark on an item that rests on illustrative data: the same word the text and Markdown views use. */
export function IllustrativeMark({ on }: { on: boolean }) {
  return on ? <span className="ill">{illustrativeWord}</span> : null;
}
