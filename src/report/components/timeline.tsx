import { scaleLinear } from 'd3-scale';
import { formatDuration } from '../../util/index.ts';
import type { TimelineModel } from '../model.ts';

const width = 640;
const labelWidth = 96;
const rowHeight = 26;
const top = 44;

/**
 * The downtime window as bars on a time axis: each phase starts where the one before it ends at the
 * median, drawn solid to its p50 and lighter to its p90. A band over the phases clients cannot use
 * gives the downtime; a red line marks the point of no return at the end of validation.
 */
export function Timeline({ timeline }: { timeline: TimelineModel }) {
  const starts: number[] = [];
  let at = 0;
  for (const p of timeline.phases) {
    starts.push(at);
    at += p.p50;
  }
  const end = Math.max(
    1,
    ...timeline.phases.map((p, i) => (starts[i] ?? 0) + p.p90),
    timeline.total.p90,
  );
  const minutes = end >= 180;
  const unit = minutes ? 60 : 1;
  const x = scaleLinear()
    .domain([0, end / unit])
    .nice()
    // Room on the right for the last bar's label and the last tick's.
    .range([labelWidth, width - 120]);
  const sx = (seconds: number) => x(seconds / unit);
  const ticks = x.ticks(6);
  const height = top + timeline.phases.length * rowHeight + 34;
  const downtimeEnd = timeline.phases.reduce(
    (n, p, i) => (p.downtime ? (starts[i] ?? 0) + p.p50 : n),
    0,
  );
  const ponr = at;
  return (
    <svg
      className="timeline"
      role="img"
      aria-labelledby="timeline-title"
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      <title id="timeline-title">
        {`Downtime timeline: downtime ${formatDuration(timeline.downtime.p50)} (p50), ${formatDuration(timeline.downtime.p90)} (p90); validated after ${formatDuration(timeline.total.p50)} (p50).`}
      </title>
      <defs>
        <pattern
          id="p90-hatch"
          width="6"
          height="6"
          patternUnits="userSpaceOnUse"
          patternTransform="rotate(45)"
        >
          <rect width="6" height="6" fill="#d6e4f5" />
          <line x1="0" y1="0" x2="0" y2="6" stroke="#0b5cad" strokeWidth="1.5" />
        </pattern>
      </defs>
      <rect
        className="downtime-band"
        x={sx(0)}
        y={8}
        width={Math.max(1, sx(downtimeEnd) - sx(0))}
        height={18}
        fill="#fdecea"
        stroke="#b3261e"
      />
      <text
        // Inside the band when it is wide enough for its words, else just after it.
        x={sx(downtimeEnd) - sx(0) >= 230 ? sx(0) + 4 : sx(downtimeEnd) + 4}
        y={21}
        fontSize="11"
        fill="#7a1a14"
      >
        {`downtime: p50 ${formatDuration(timeline.downtime.p50)}, p90 ${formatDuration(timeline.downtime.p90)}`}
      </text>
      {ticks.map((t) => (
        <g key={t}>
          <line x1={x(t)} x2={x(t)} y1={top - 6} y2={height - 26} stroke="#e1e5ea" />
          <text x={x(t)} y={height - 10} fontSize="10" textAnchor="middle" fill="#4a5361">
            {formatDuration(t * unit)}
          </text>
        </g>
      ))}
      {timeline.phases.map((p, i) => {
        const y = top + i * rowHeight;
        const s = starts[i] ?? 0;
        return (
          <g key={p.phase} className="phase" data-phase={p.phase}>
            <text x={labelWidth - 8} y={y + 15} fontSize="11" textAnchor="end" fill="#1b1f24">
              {p.phase}
            </text>
            {p.p90 > p.p50 ? (
              <rect
                x={sx(s + p.p50)}
                y={y + 4}
                width={sx(s + p.p90) - sx(s + p.p50)}
                height={14}
                fill="url(#p90-hatch)"
              />
            ) : null}
            <rect
              x={sx(s)}
              y={y + 4}
              width={Math.max(2, sx(s + p.p50) - sx(s))}
              height={14}
              fill={p.downtime ? '#0b5cad' : '#1a6b34'}
            />
            <text
              x={Math.max(sx(s + p.p90), sx(s + p.p50)) + 4}
              y={y + 15}
              fontSize="10"
              fill="#4a5361"
            >
              {p.p90 > p.p50
                ? `${formatDuration(p.p50)} – ${formatDuration(p.p90)}`
                : formatDuration(p.p50)}
            </text>
          </g>
        );
      })}
      <line
        className="point-of-no-return"
        x1={sx(ponr)}
        x2={sx(ponr)}
        y1={top - 8}
        y2={height - 26}
        stroke="#b3261e"
        strokeWidth="2"
        strokeDasharray="5 3"
      />
      <text
        x={Math.min(sx(ponr), width - 4)}
        y={top - 10}
        fontSize="10"
        textAnchor="end"
        fill="#7a1a14"
      >
        point of no return
      </text>
    </svg>
  );
}
