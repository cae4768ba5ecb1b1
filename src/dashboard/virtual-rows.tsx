import { type ReactNode, useEffect, useRef, useState } from 'react';

/**
 * A table body that renders only the rows in view (and a few either side): a fleet of thousands of
 * nodes costs the DOM of a screenful. Rows have one fixed height; spacer rows keep the scroll
 * height true, and `aria-rowcount`/`aria-rowindex` tell assistive technology the real size.
 */
export function VirtualTable<T>({
  rows,
  rowHeight,
  height,
  header,
  columns,
  row,
  label,
  testId,
}: {
  rows: readonly T[];
  rowHeight: number;
  /** The scroll box's height in pixels. */
  height: number;
  header: ReactNode;
  columns: number;
  row: (item: T, index: number) => ReactNode;
  label: string;
  testId?: string;
}) {
  const box = useRef<HTMLElement>(null);
  const [top, setTop] = useState(0);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    let frame = 0;
    const on = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setTop(el.scrollTop));
    };
    el.addEventListener('scroll', on, { passive: true });
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener('scroll', on);
    };
  }, []);
  const overscan = 10;
  const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const last = Math.min(rows.length, Math.ceil((top + height) / rowHeight) + overscan);
  const before = first * rowHeight;
  const after = (rows.length - last) * rowHeight;
  return (
    <section
      className="scroll"
      ref={box}
      style={{ maxHeight: height }}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll box must be reachable by keyboard (axe: scrollable-region-focusable)
      tabIndex={0}
      aria-label={label}
    >
      <table aria-rowcount={rows.length + 1} data-testid={testId} data-rows={rows.length}>
        <thead>{header}</thead>
        <tbody>
          {before > 0 ? (
            <tr className="spacer" style={{ height: before }}>
              <td colSpan={columns} />
            </tr>
          ) : null}
          {rows.slice(first, last).map((item, k) => row(item, first + k))}
          {after > 0 ? (
            <tr className="spacer" style={{ height: after }}>
              <td colSpan={columns} />
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
