import type { GraphModel } from '../model.ts';
import { layoutGraph } from './layout-graph.ts';

const nodeStyle: Record<
  GraphModel['nodes'][number]['kind'],
  { fill: string; stroke: string; dash?: string }
> = {
  installed: { fill: '#eef4fb', stroke: '#0b5cad' },
  stop: { fill: '#ffffff', stroke: '#0b5cad' },
  target: { fill: '#0b5cad', stroke: '#0b5cad' },
  conditional: { fill: '#ffffff', stroke: '#4a5361', dash: '4 3' },
  'blocked-from': { fill: '#fdecea', stroke: '#b3261e' },
};
const edgeStyle: Record<
  GraphModel['edges'][number]['kind'],
  { stroke: string; width: number; dash?: string }
> = {
  chosen: { stroke: '#0b5cad', width: 3 },
  blocked: { stroke: '#b3261e', width: 2, dash: '6 4' },
  conditional: { stroke: '#4a5361', width: 1.5, dash: '3 3' },
};

/**
 * The upgrade path as a graph: the installed version, the stops the path must make, the target,
 * and the ways that are closed (blocked) or open only on some facts (conditional). The chosen hops
 * are thick and numbered. Laid out by dagre when rendered; plain SVG, no script.
 */
export function VersionGraph({ graph, title }: { graph: GraphModel; title: string }) {
  const g = layoutGraph(graph);
  const chosen = graph.edges.filter((e) => e.kind === 'chosen');
  const summary =
    chosen.length > 0
      ? `Chosen path: ${[chosen[0]?.from, ...chosen.map((e) => e.to)].join(' → ')}`
      : 'No path is chosen';
  return (
    <svg
      className="version-graph"
      role="img"
      aria-labelledby="version-graph-title"
      viewBox={`0 0 ${g.width} ${g.height}`}
      width={g.width}
      height={g.height}
    >
      <title id="version-graph-title">{`${title}. ${summary}.`}</title>
      <defs>
        {(['chosen', 'blocked', 'conditional'] as const).map((k) => (
          <marker
            key={k}
            id={`arrow-${k}`}
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M0,0 L10,5 L0,10 z" fill={edgeStyle[k].stroke} />
          </marker>
        ))}
      </defs>
      {g.edges.map((e) => {
        const s = edgeStyle[e.kind];
        const mid = e.points[Math.floor(e.points.length / 2)];
        return (
          <g
            key={`${e.from}->${e.to}-${e.kind}`}
            className={`edge edge-${e.kind}`}
            data-from={e.from}
            data-to={e.to}
          >
            <path
              d={e.points
                .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
                .join(' ')}
              fill="none"
              stroke={s.stroke}
              strokeWidth={s.width}
              strokeDasharray={s.dash}
              markerEnd={`url(#arrow-${e.kind})`}
            />
            {e.kind === 'chosen' && mid && e.label ? (
              <g>
                <circle cx={mid.x} cy={mid.y} r="8" fill="#ffffff" stroke={s.stroke} />
                <text x={mid.x} y={mid.y + 4} fontSize="10" textAnchor="middle" fill="#0b3d73">
                  {e.label}
                </text>
              </g>
            ) : null}
          </g>
        );
      })}
      {g.nodes.map((n) => {
        const s = nodeStyle[n.kind];
        const dark = n.kind === 'target';
        return (
          <g key={n.id} className={`node node-${n.kind}`} data-version={n.id}>
            <rect
              x={n.x - n.w / 2}
              y={n.y - n.h / 2}
              width={n.w}
              height={n.h}
              rx="6"
              fill={s.fill}
              stroke={n.illustrative ? '#6b3fa0' : s.stroke}
              strokeWidth={n.kind === 'target' || n.kind === 'installed' ? 2.5 : 1.5}
              strokeDasharray={n.illustrative ? '5 3' : s.dash}
            />
            <text
              x={n.x}
              y={n.y - 3}
              fontSize="12"
              fontWeight="600"
              textAnchor="middle"
              fill={dark ? '#ffffff' : '#1b1f24'}
            >
              {n.label}
            </text>
            <text
              x={n.x}
              y={n.y + 12}
              fontSize="10"
              textAnchor="middle"
              fill={dark ? '#ffffff' : '#4a5361'}
            >
              {`${n.note ?? ''}${n.illustrative ? ' (illustrative)' : ''}`}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
