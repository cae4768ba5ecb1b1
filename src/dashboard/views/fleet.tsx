import { useEffect, useMemo, useState } from 'react';
import { api } from '../api.ts';
import { when } from '../format.ts';
import { linkProps, navigate } from '../route.ts';
import type { FleetNode, FleetResponse, RunResponse } from '../types.ts';
import { useApi } from '../use-api.ts';
import { VirtualTable } from '../virtual-rows.tsx';

interface Row {
  env: string;
  deployment: string;
  profile: string;
  type: string;
  to: string;
  drift: boolean;
  node: FleetNode;
  /** The node's version: asked now (live) or, else, where the environment's last run left it. */
  version: string | null;
  versionFrom: 'node' | 'run' | null;
  /** The node's state in the environment's last run, e.g. `done`, `rolled-back`; null: none. */
  runState: string | null;
  runId: string | null;
  /** The environment's last run is still being read: version and state may come with it. */
  pending: boolean;
}

const allStates = [
  'no run',
  'pending',
  'stopped',
  'upgrading',
  'upgraded',
  'started',
  'validated',
  'failed',
  'rolling-back',
  'rolled-back',
];

/**
 * Environments → deployments → nodes, as `uplift fleet` shows them: version, drift, the last
 * survey and check, the state in the environment's last run. One flat, filtered, windowed table,
 * so a fleet of 1,000 nodes renders a screenful of rows.
 */
export function FleetView({ query }: { query: URLSearchParams }) {
  const live = query.get('live') === 'true';
  const { data, error, loading, reload } = useApi<FleetResponse>(
    `/api/fleet${live ? '?live=true' : ''}`,
  );
  /** The environments' last runs by id, as they arrive; null: that run could not be read. */
  const [runs, setRuns] = useState<Record<string, RunResponse | null>>({});
  useEffect(() => {
    if (data === undefined) return;
    let on = true;
    const ids = data.environments.flatMap((e) => (e.lastRun ? [e.lastRun.runId] : []));
    Promise.all(
      ids.map((id) =>
        api<RunResponse>(`/api/runs/${encodeURIComponent(id)}`).then(
          (r) => [id, r] as const,
          () => [id, null] as const,
        ),
      ),
    ).then((got) => {
      if (on) setRuns(Object.fromEntries(got));
    });
    return () => {
      on = false;
    };
  }, [data]);

  const rows = useMemo<Row[]>(() => {
    if (data === undefined) return [];
    return data.environments.flatMap((e) => {
      const run = e.lastRun ? (runs[e.lastRun.runId] ?? undefined) : undefined;
      const pending = e.lastRun ? !(e.lastRun.runId in runs) : false;
      return e.deployments.flatMap((d) =>
        d.nodes.map((n): Row => {
          const state = run?.nodes.find((s) => s.deployment === d.name && s.node === n.name);
          // Past the switch the node runs the target; before it, or taken back, the version it had.
          const runVersion =
            state === undefined
              ? null
              : run?.run.outcome !== 'rolled-back' &&
                  ['upgraded', 'started', 'validated'].includes(state.state)
                ? (state.toVersion ?? null)
                : (state.fromVersion ?? null);
          return {
            env: e.name,
            deployment: d.name,
            profile: d.profile,
            type: d.type,
            to: d.to,
            drift: d.drift,
            node: n,
            version: n.version ?? runVersion,
            versionFrom: n.version ? 'node' : runVersion ? 'run' : null,
            runState: state?.state ?? null,
            runId: e.lastRun?.runId ?? null,
            pending,
          };
        }),
      );
    });
  }, [data, runs]);

  const f = {
    env: query.get('env') ?? '',
    profile: query.get('profile') ?? '',
    version: query.get('version') ?? '',
    state: query.get('state') ?? '',
    q: query.get('q') ?? '',
  };
  const [text, setText] = useState(f.q);
  const set = (k: keyof typeof f, v: string) =>
    navigate('/fleet', { ...f, [k]: v, live: live ? 'true' : undefined });
  // The text filter follows typing, then lands in the address a moment later.
  useEffect(() => {
    if (text === f.q) return;
    const t = setTimeout(() => set('q', text), 200);
    return () => clearTimeout(t);
  });

  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    return rows.filter(
      (r) =>
        (f.env === '' || r.env === f.env) &&
        (f.profile === '' || r.profile === f.profile) &&
        (f.version === '' || (r.version ?? 'unknown') === f.version) &&
        (f.state === '' || (r.runState ?? 'no run') === f.state) &&
        (needle === '' ||
          [r.env, r.deployment, r.node.name, r.node.address, r.version ?? '', r.profile].some((s) =>
            s.toLowerCase().includes(needle),
          )),
    );
  }, [rows, f.env, f.profile, f.version, f.state, text]);

  useEffect(() => {
    if (data === undefined) return;
    // After the browser paints the table: the bench's "first render" (bench/dashboard.ts).
    requestAnimationFrame(() =>
      setTimeout(() => {
        if (performance.getEntriesByName('uplift:fleet-painted').length === 0)
          performance.mark('uplift:fleet-painted', { detail: { rows: rows.length } });
      }, 0),
    );
  }, [data, rows.length]);

  const distinct = (pick: (r: Row) => string) => [...new Set(rows.map(pick))].sort();
  const envs = data?.environments ?? [];
  return (
    <>
      <h1>Fleet</h1>
      <section aria-labelledby="envs-heading">
        <h2 id="envs-heading">Environments</h2>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        {data === undefined ? (
          <p aria-busy="true">Reading the fleet…</p>
        ) : (
          <ul className="cards">
            {envs.map((e) => {
              const nodes = e.deployments.reduce((a, d) => a + d.nodes.length, 0);
              return (
                <li key={e.name} className="card">
                  <h3>{e.name}</h3>
                  <p>
                    {e.deployments.length} deployment(s), {nodes} node(s)
                    {e.deployments.some((d) => d.drift) ? (
                      <strong className="bad"> · drift</strong>
                    ) : null}
                  </p>
                  <p>
                    Last run:{' '}
                    {e.lastRun ? (
                      <a {...linkProps('/rollout', { env: e.name, run: e.lastRun.runId })}>
                        {e.lastRun.outcome} by {e.lastRun.actor}, {when(e.lastRun.at)}
                      </a>
                    ) : (
                      'none'
                    )}
                  </p>
                  <ul className="plain">
                    {e.deployments.map((d) => (
                      <li key={d.name}>
                        <a {...linkProps('/plan', { env: e.name, deployment: d.name })}>{d.name}</a>{' '}
                        <span className="muted">
                          {d.profile} → {d.to}
                          {d.versions.length > 0 ? ` · on ${d.versions.join(', ')}` : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section aria-labelledby="nodes-heading">
        <h2 id="nodes-heading">Nodes</h2>
        <form className="filters" onSubmit={(e) => e.preventDefault()}>
          <Select
            label="Environment"
            value={f.env}
            options={distinct((r) => r.env)}
            onChange={(v) => set('env', v)}
          />
          <Select
            label="Profile"
            value={f.profile}
            options={distinct((r) => r.profile)}
            onChange={(v) => set('profile', v)}
          />
          <Select
            label="Version"
            value={f.version}
            options={distinct((r) => r.version ?? 'unknown')}
            onChange={(v) => set('version', v)}
          />
          <Select
            label="Run state"
            value={f.state}
            options={[...new Set([...allStates, ...distinct((r) => r.runState ?? 'no run')])]}
            onChange={(v) => set('state', v)}
          />
          <label>
            Search
            <input
              type="search"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder="node, address, deployment…"
            />
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={live}
              onChange={(e) =>
                navigate('/fleet', { ...f, live: e.target.checked ? 'true' : undefined })
              }
            />
            Ask every node now (slow)
          </label>
          <button type="button" className="secondary" onClick={reload} disabled={loading}>
            Refresh
          </button>
        </form>
        <p aria-live="polite" data-testid="fleet-count">
          {shown.length} of {rows.length} node(s)
        </p>
        <VirtualTable
          rows={shown}
          rowHeight={32}
          height={560}
          columns={9}
          label="Nodes"
          testId="fleet-table"
          header={
            <tr aria-rowindex={1}>
              <th scope="col">environment</th>
              <th scope="col">deployment</th>
              <th scope="col">node</th>
              <th scope="col">version</th>
              <th scope="col">target</th>
              <th scope="col">drift</th>
              <th scope="col">last facts</th>
              <th scope="col">last check</th>
              <th scope="col">run</th>
            </tr>
          }
          row={(r, k) => (
            <tr
              key={`${r.env}/${r.deployment}/${r.node.name}`}
              aria-rowindex={k + 2}
              style={{ height: 32 }}
            >
              <td>{r.env}</td>
              <td>{r.deployment}</td>
              <td title={r.node.address}>
                {r.node.name}
                {r.node.error ? <span className="bad"> ({r.node.error.code})</span> : null}
              </td>
              <td>
                {r.version ?? <Unknown pending={r.pending} />}
                {r.versionFrom === 'run' ? <span className="muted"> (run)</span> : null}
              </td>
              <td>{r.to}</td>
              <td>{r.drift ? <strong className="bad">drift</strong> : 'no'}</td>
              <td>{when(r.node.lastSurvey)}</td>
              <td>
                {r.node.lastCheck ? (
                  <span
                    className={`status-${r.node.lastCheck.status}`}
                    title={r.node.lastCheck.failed.join(', ')}
                  >
                    {r.node.lastCheck.status} {when(r.node.lastCheck.at)}
                  </span>
                ) : (
                  '—'
                )}
              </td>
              <td>
                {r.runId && r.runState ? (
                  <a {...linkProps('/rollout', { env: r.env, run: r.runId })}>{r.runState}</a>
                ) : r.pending ? (
                  <Unknown pending />
                ) : (
                  '—'
                )}
              </td>
            </tr>
          )}
        />
      </section>
    </>
  );
}

/** A value not known: still coming with the environment's last run, or not known at all. */
function Unknown({ pending }: { pending: boolean }) {
  return pending ? (
    <span className="muted" aria-busy="true" data-testid="fleet-pending">
      loading…
    </span>
  ) : (
    <span className="muted">unknown</span>
  );
}

function Select({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: string[];
  onChange: (v: string) => void;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">all</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
