import { scaleLinear } from 'd3-scale';
import { slotText, type WindowRow } from '../model.ts';

const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const cell = { w: 6, h: 18 };
const left = 36;
const top = 20;
const slotsPerDay = 96;
const weekMs = 7 * 24 * 3600 * 1000;
const slotMs = 15 * 60 * 1000;
// 1970-01-05 was a Monday: slot 0 of a week starts at a multiple of a week from it.
const mondayEpoch = 4 * 24 * 3600 * 1000;

/** The slots of the week a window covers, as [day, first slot, last slot + 1] runs, in UTC. */
function windowRuns(w: { start: number; end: number }): [number, number, number][] {
  const runs: [number, number, number][] = [];
  const first = Math.floor(((((w.start - mondayEpoch) % weekMs) + weekMs) % weekMs) / slotMs);
  const count = Math.max(1, Math.ceil((w.end - w.start) / slotMs));
  for (let k = 0; k < count; ) {
    const slot = (first + k) % (7 * slotsPerDay);
    const day = Math.floor(slot / slotsPerDay);
    const inDay = slot % slotsPerDay;
    const n = Math.min(count - k, slotsPerDay - inDay);
    runs.push([day, inDay, inDay + n]);
    k += n;
  }
  return runs;
}

/**
 * Traffic over the week, one cell per 15-minute slot (rows: days, UTC), darker where busier, with
 * the proposed windows outlined and numbered by rank. Without traffic the grid is empty and only
 * the windows show.
 */
export function WeekHeatMap({ heat, windows }: { heat?: number[]; windows?: WindowRow[] }) {
  const max = Math.max(1e-9, ...(heat ?? [0]));
  const colour = scaleLinear<string>().domain([0, max]).range(['#f4f8fc', '#08306b']);
  const width = left + slotsPerDay * cell.w + 8;
  const height = top + 7 * cell.h + 36;
  const quiet = heat ? heat.indexOf(Math.min(...heat)) : -1;
  return (
    <svg
      className="week-heat-map"
      role="img"
      aria-labelledby="heat-title"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      <title id="heat-title">
        {`Traffic by 15-minute slot of the week, UTC${heat ? `; quietest slot ${slotText(quiet)}` : ' (no traffic profile given)'}${windows?.length ? `; ${windows.length} proposed windows outlined` : ''}.`}
      </title>
      {Array.from({ length: 9 }, (_, k) => k * 3).map((h) => (
        <text
          key={h}
          x={left + h * 4 * cell.w}
          y={top - 6}
          fontSize="9"
          fill="#4a5361"
          textAnchor="middle"
        >
          {`${String(h).padStart(2, '0')}h`}
        </text>
      ))}
      {days.map((d, day) => (
        <g key={d}>
          <text
            x={left - 6}
            y={top + day * cell.h + 13}
            fontSize="10"
            textAnchor="end"
            fill="#1b1f24"
          >
            {d}
          </text>
          {heat ? (
            heat.slice(day * slotsPerDay, (day + 1) * slotsPerDay).map((v, i) => (
              <rect
                // biome-ignore lint/suspicious/noArrayIndexKey: a slot's place is its identity
                key={i}
                x={left + i * cell.w}
                y={top + day * cell.h}
                width={cell.w}
                height={cell.h - 2}
                fill={colour(v)}
              />
            ))
          ) : (
            <rect
              x={left}
              y={top + day * cell.h}
              width={slotsPerDay * cell.w}
              height={cell.h - 2}
              fill="#ffffff"
              stroke="#c9d1d9"
            />
          )}
        </g>
      ))}
      {(windows ?? []).map((w) =>
        windowRuns(w).map(([day, a, b], k) => (
          <g key={`${w.rank}-${day}-${a}`} className="window" data-rank={w.rank}>
            <rect
              x={left + a * cell.w}
              y={top + day * cell.h - 1}
              width={(b - a) * cell.w}
              height={cell.h}
              fill="none"
              stroke="#d97706"
              strokeWidth="2.5"
            />
            {k === 0 ? (
              <text
                x={left + a * cell.w + 2}
                y={top + day * cell.h + 12}
                fontSize="10"
                fontWeight="700"
                fill="#ffffff"
                stroke="#7a3e00"
                strokeWidth="2"
                paintOrder="stroke"
              >
                {w.rank}
              </text>
            ) : null}
          </g>
        )),
      )}
      {heat ? (
        <g className="legend">
          <defs>
            <linearGradient id="heat-legend">
              <stop offset="0" stopColor="#f4f8fc" />
              <stop offset="1" stopColor="#08306b" />
            </linearGradient>
          </defs>
          <text x={left} y={height - 8} fontSize="10" fill="#4a5361">
            quiet
          </text>
          <rect
            x={left + 32}
            y={height - 18}
            width={120}
            height={10}
            fill="url(#heat-legend)"
            stroke="#4a5361"
          />
          <text x={left + 158} y={height - 8} fontSize="10" fill="#4a5361">
            {`busy (${max.toFixed(1)} transfers per slot per week)`}
          </text>
        </g>
      ) : null}
    </svg>
  );
}
