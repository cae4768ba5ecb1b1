import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, api, errorText } from '../api.ts';
import { seconds, when } from '../format.ts';
import { linkProps, navigate } from '../route.ts';
import type {
  AuditEntry,
  FleetResponse,
  Job,
  PlanResponse,
  RunRecord,
  RunResponse,
} from '../types.ts';
import { useApi } from '../use-api.ts';

/**
 * A rollout, live: the environment's job and runs, the chosen run's nodes and steps updated from
 * its Server-Sent Events (which reconnect and resume from the last event id by themselves), its
 * log, its estimate against the actual time, and, for an operator, the actions.
 */
export function RolloutView({ query, operator }: { query: URLSearchParams; operator: boolean }) {
  const fleet = useApi<FleetResponse>('/api/fleet');
  const envs = fleet.data?.environments.map((e) => e.name) ?? [];
  const env = query.get('env') ?? envs[0] ?? '';
  const runs = useApi<{ runs: RunRecord[] }>(
    env === '' ? undefined : `/api/runs?env=${encodeURIComponent(env)}&limit=20`,
  );
  const job = useJob(env);
  const runId = query.get('run') ?? job.job?.runId ?? runs.data?.runs[0]?.id;
  const reloadRuns = runs.reload;
  // A job that starts a new run: show it.
  useEffect(() => {
    if (job.job?.runId !== undefined) reloadRuns();
  }, [job.job?.runId, reloadRuns]);

  return (
    <>
      <h1>Rollout</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Environment
          <select value={env} onChange={(e) => navigate('/rollout', { env: e.target.value })}>
            {envs.map((e) => (
              <option key={e}>{e}</option>
            ))}
          </select>
        </label>
        <label>
          Run
          <select
            value={runId ?? ''}
            onChange={(e) => navigate('/rollout', { env, run: e.target.value })}
          >
            {runId === undefined ? <option value="">none yet</option> : null}
            {(runs.data?.runs ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {when(r.startedAt)} · {r.outcome}
                {r.dryRun ? ' (dry run)' : ''}
              </option>
            ))}
          </select>
        </label>
      </form>
      {env !== '' ? (
        <JobPanel env={env} job={job.job} operator={operator} onChange={job.reload} />
      ) : null}
      {runId !== undefined ? (
        <RunPanel key={runId} runId={runId} onFinish={reloadRuns} />
      ) : (
        <p>No run of {env || 'this environment'} yet.</p>
      )}
    </>
  );
}

/** The environment's job on the server (GET /api/rollouts/jobs), read each second while it runs. */
function useJob(env: string): { job: Job | undefined; reload: () => void } {
  const [job, setJob] = useState<Job>();
  const [tick, setTick] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the reload trigger
  useEffect(() => {
    if (env === '') return;
    let on = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = () =>
      api<{ jobs: Job[] }>('/api/rollouts/jobs').then(
        (r) => {
          if (!on) return;
          const mine = r.jobs.find((j) => j.env === env);
          setJob(mine);
          if (mine?.state === 'running' || mine?.state === 'stopping')
            timer = setTimeout(read, 1000);
        },
        () => {
          if (on) setJob(undefined);
        },
      );
    read();
    return () => {
      on = false;
      clearTimeout(timer);
    };
  }, [env, tick]);
  return { job, reload: useCallback(() => setTick((t) => t + 1), []) };
}

interface Gate {
  verdict: string;
  gaps: { env?: string; deployment?: string; reason?: string }[];
}

function JobPanel({
  env,
  job,
  operator,
  onChange,
}: {
  env: string;
  job: Job | undefined;
  operator: boolean;
  onChange: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string>();
  const [gate, setGate] = useState<Gate>();
  const [reason, setReason] = useState('');
  const [dryRun, setDryRun] = useState<Record<string, unknown>>();
  const act = (path: string, body: unknown, after?: (r: unknown) => void) => {
    setBusy(true);
    setMessage(undefined);
    api<unknown>(path, { method: 'POST', body }).then(
      (r) => {
        setBusy(false);
        setGate(undefined);
        after?.(r);
        onChange();
      },
      (e: unknown) => {
        setBusy(false);
        if (e instanceof ApiError && e.code === 'UPLIFT_ROLLOUT_GATE_REFUSED')
          setGate((e.body as { gate?: Gate }).gate ?? { verdict: 'refused', gaps: [] });
        setMessage(errorText(e));
        onChange();
      },
    );
  };
  const running = job?.state === 'running' || job?.state === 'stopping';
  // A run that passed or was taken back has nothing to resume (with no job, the server may have
  // restarted over an unfinished run: resume stays offered, and the API answers if there is none).
  const finished = job?.state === 'passed' || job?.state === 'rolled-back';
  const e = encodeURIComponent(env);
  const approve = (ev: FormEvent) => {
    ev.preventDefault();
    act(`/api/rollouts/${e}/approve`, { reason: reason.trim() }, () => setReason(''));
  };
  return (
    <section aria-labelledby="job-heading">
      <h2 id="job-heading">Job</h2>
      <p data-testid="job-state">
        {job ? (
          <>
            <strong className={`state-${job.state}`}>{job.state}</strong>: {job.action} by{' '}
            {job.actor}, {when(job.startedAt)}
            {job.endedAt ? ` – ${when(job.endedAt)}` : ''}
            {job.exitCode !== undefined ? ` (exit ${job.exitCode})` : ''}
          </>
        ) : (
          'No job of this environment on the server.'
        )}
      </p>
      {operator ? (
        <fieldset className="actions">
          <legend>Actions</legend>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              act('/api/rollouts/dry-run', { env }, (r) => setDryRun(r as Record<string, unknown>))
            }
          >
            Dry run
          </button>
          <button
            type="button"
            disabled={busy || running}
            onClick={() => act('/api/rollouts', { env })}
          >
            Start
          </button>
          <button
            type="button"
            disabled={busy || !running}
            onClick={() => act(`/api/rollouts/${e}/pause`, {})}
          >
            Pause
          </button>
          <button
            type="button"
            disabled={busy || running || finished}
            onClick={() => act(`/api/rollouts/${e}/resume`, {})}
          >
            Resume
          </button>
          <button
            type="button"
            className="danger"
            disabled={busy}
            onClick={() => act(`/api/rollouts/${e}/abort`, {})}
          >
            Abort
          </button>
        </fieldset>
      ) : null}
      {message ? (
        <p role="alert" className="error">
          {message}
        </p>
      ) : null}
      {gate && operator ? (
        <form className="gate" onSubmit={approve}>
          <p>
            The promotion gate refused: <strong>{gate.verdict}</strong>.
          </p>
          <ul>
            {gate.gaps.map((g) => (
              <li key={JSON.stringify(g)}>
                {g.env}/{g.deployment}: {g.reason}
              </li>
            ))}
          </ul>
          <label htmlFor="gate-reason">Reason for approving anyway (audited)</label>
          <input
            id="gate-reason"
            value={reason}
            onChange={(ev) => setReason(ev.target.value)}
            required
          />
          <button type="submit" disabled={busy || reason.trim() === ''}>
            Approve the gate and start
          </button>
        </form>
      ) : null}
      {dryRun ? (
        <details open>
          <summary>Dry run</summary>
          <p>
            Gate: {JSON.stringify((dryRun.gate as { pass?: boolean })?.pass ?? null)}; service
            downtime {seconds(dryRun.serviceDowntimeSeconds as number)}.
          </p>
          <pre
            className="log"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll box must be reachable by keyboard (axe: scrollable-region-focusable)
            tabIndex={0}
          >
            {JSON.stringify(dryRun.deployments, null, 2)}
          </pre>
        </details>
      ) : null}
      {job && job.log.length > 0 ? (
        <details>
          <summary>Job log ({job.log.length} lines)</summary>
          <pre
            className="log"
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll box must be reachable by keyboard (axe: scrollable-region-focusable)
            tabIndex={0}
          >
            {job.log.join('\n')}
          </pre>
        </details>
      ) : null}
    </section>
  );
}

type Link = 'connecting' | 'live' | 'reconnecting';

function RunPanel({ runId, onFinish }: { runId: string; onFinish: () => void }) {
  const id = encodeURIComponent(runId);
  const run = useApi<RunResponse>(`/api/runs/${id}`);
  const [events, setEvents] = useState<AuditEntry[]>([]);
  const [link, setLink] = useState<Link>('connecting');
  const reload = run.reload;
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    const source = new EventSource(`/api/runs/${id}/events`);
    source.onopen = () => setLink('live');
    source.onerror = () => setLink('reconnecting');
    source.addEventListener('audit', (m) => {
      const e = JSON.parse((m as MessageEvent<string>).data) as AuditEntry;
      setEvents((es) => (es.some((x) => x.id === e.id) ? es : [...es, e]));
      // Many events at once (a deployment's nodes): one read of the run for them all.
      clearTimeout(pending.current);
      pending.current = setTimeout(reload, 100);
      if (e.action === 'rollout.finish') onFinish();
    });
    return () => {
      clearTimeout(pending.current);
      source.close();
    };
  }, [id, reload, onFinish]);

  const r = run.data;
  return (
    <section aria-labelledby="run-heading" data-testid="run">
      <h2 id="run-heading">
        Run <code>{runId}</code>{' '}
        <span className={`link link-${link}`} data-testid="link">
          {link}
        </span>
      </h2>
      {run.error ? (
        <p role="alert" className="error">
          {run.error}
        </p>
      ) : null}
      {r ? (
        <>
          <p data-testid="run-outcome">
            <strong className={`state-${r.run.outcome}`}>{r.run.outcome}</strong>
            {r.run.dryRun ? ' (dry run)' : ''} · {r.run.deployments.join(', ')} · started{' '}
            {when(r.run.startedAt)}
            {r.run.finishedAt ? `, finished ${when(r.run.finishedAt)}` : ''} · controller{' '}
            {r.run.controller} · <a {...linkProps('/history', { run: runId })}>audit of this run</a>
          </p>
          <h3>Nodes</h3>
          <table data-testid="run-nodes">
            <thead>
              <tr>
                <th scope="col">deployment</th>
                <th scope="col">node</th>
                <th scope="col">state</th>
                <th scope="col">from</th>
                <th scope="col">to</th>
                <th scope="col">time so far</th>
                <th scope="col">updated</th>
              </tr>
            </thead>
            <tbody>
              {r.nodes.map((n) => (
                <tr key={`${n.deployment}/${n.node}`}>
                  <td>{n.deployment}</td>
                  <td>{n.node}</td>
                  <td>
                    <strong className={`state-${n.state}`}>{n.state}</strong>
                  </td>
                  <td>{n.fromVersion ?? '—'}</td>
                  <td>{n.toVersion ?? '—'}</td>
                  <td>
                    {seconds(
                      r.steps
                        .filter((s) => s.deployment === n.deployment && s.node === n.node)
                        .reduce((a, s) => a + s.seconds, 0),
                    )}
                  </td>
                  <td>{when(n.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Steps</h3>
          <StepTimeline steps={r.steps} />
          <Estimate run={r} />
        </>
      ) : (
        <p aria-busy="true">Reading the run…</p>
      )}
      <h3>Log</h3>
      <ol
        className="log"
        data-testid="run-log"
        aria-live="polite"
        aria-label="Events of the run"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll box must be reachable by keyboard (axe: scrollable-region-focusable)
        tabIndex={0}
      >
        {events.map((e) => (
          <li key={e.id}>
            <time>{when(e.at)}</time> {e.actor} <strong>{e.action}</strong> {e.outcome}
            {e.deployment ? ` ${e.deployment}` : ''}
            {e.node ? `/${e.node}` : ''}
            {e.detail ? <span className="muted"> {JSON.stringify(e.detail)}</span> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The run's steps as bars on one time axis, one row per node: when each step ran, how long. */
function StepTimeline({ steps }: { steps: RunResponse['steps'] }) {
  if (steps.length === 0) return <p>No step has finished yet.</p>;
  const spans = steps.map((s) => {
    const end = new Date(s.at).getTime();
    return { ...s, start: end - s.seconds * 1000, end };
  });
  const t0 = Math.min(...spans.map((s) => s.start));
  const t1 = Math.max(...spans.map((s) => s.end), t0 + 1000);
  const rows = [...new Set(spans.map((s) => `${s.deployment}/${s.node}`))];
  const left = 150;
  const width = 720;
  const rowH = 22;
  const x = (t: number) => left + ((t - t0) / (t1 - t0)) * (width - left - 10);
  const height = rows.length * rowH + 24;
  return (
    <figure>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`Steps of ${rows.length} node(s) over ${seconds((t1 - t0) / 1000)}`}
      >
        {rows.map((row, k) => (
          <text key={row} x={4} y={k * rowH + 15} fontSize={12} fill="#1b1f24">
            {row}
          </text>
        ))}
        {spans.map((s) => {
          const k = rows.indexOf(`${s.deployment}/${s.node}`);
          return (
            <rect
              key={`${s.deployment}/${s.node}/${s.step}/${s.at}`}
              x={x(s.start)}
              y={k * rowH + 3}
              width={Math.max(2, x(s.end) - x(s.start))}
              height={rowH - 6}
              fill={stepColour(s.step)}
            >
              <title>
                {s.step}: {seconds(s.seconds)}
              </title>
            </rect>
          );
        })}
        <text x={left} y={height - 6} fontSize={11} fill="#4a5361">
          {when(new Date(t0).toISOString())}
        </text>
        <text x={width - 10} y={height - 6} fontSize={11} fill="#4a5361" textAnchor="end">
          +{seconds((t1 - t0) / 1000)}
        </text>
      </svg>
      <figcaption>
        {[...new Set(steps.map((s) => s.step))].map((s) => (
          <span key={s} className="legend-item">
            <span className="swatch" style={{ background: stepColour(s) }} /> {s}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

const palette = ['#0b5cad', '#1a6b34', '#8a4b00', '#6b3fa0', '#b3261e', '#00676b', '#5b4a00'];
function stepColour(step: string): string {
  let h = 0;
  for (const c of step) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return palette[h % palette.length] as string;
}

/** The plan's p50/p90 for a node of the run's first deployment against each node's actual time. */
function Estimate({ run }: { run: RunResponse }) {
  const [plan, setPlan] = useState<PlanResponse>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const deployment = run.run.deployments[0];
  const load = () => {
    if (deployment === undefined) return;
    setBusy(true);
    api<PlanResponse>(
      `/api/plan?env=${encodeURIComponent(run.run.env)}&deployment=${encodeURIComponent(deployment)}`,
    ).then(
      (p) => {
        setPlan(p);
        setBusy(false);
      },
      (e: unknown) => {
        setError(errorText(e));
        setBusy(false);
      },
    );
  };
  const actual = (n: { deployment: string; node: string }) =>
    run.steps
      .filter((s) => s.deployment === n.deployment && s.node === n.node)
      .reduce((a, s) => a + s.seconds, 0);
  const t = plan?.report.timeline;
  return (
    <>
      <h3>Estimate against actual</h3>
      {t === undefined ? (
        <p>
          <button
            type="button"
            className="secondary"
            onClick={load}
            disabled={busy || deployment === undefined}
          >
            Compare with the plan's estimate
          </button>{' '}
          <span className="muted">(plans on the deployment's first node)</span>
        </p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">node</th>
              <th scope="col">actual</th>
              <th scope="col">estimate p50</th>
              <th scope="col">estimate p90</th>
              <th scope="col">against p90</th>
            </tr>
          </thead>
          <tbody>
            {run.nodes
              .filter((n) => n.deployment === deployment)
              .map((n) => {
                const a = actual(n);
                return (
                  <tr key={n.node}>
                    <td>{n.node}</td>
                    <td>{seconds(a)}</td>
                    <td>{seconds(t.total.p50)}</td>
                    <td>{seconds(t.total.p90)}</td>
                    <td className={a > t.total.p90 ? 'bad' : 'ok'}>
                      {a > t.total.p90 ? 'over' : 'within'}
                    </td>
                  </tr>
                );
              })}
          </tbody>
        </table>
      )}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </>
  );
}
