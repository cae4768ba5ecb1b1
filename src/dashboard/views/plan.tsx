import { useMemo, useState } from 'react';
import {
  CheckTable,
  IllustrativeMark,
  Timeline,
  VerdictBadge,
  VersionGraph,
  WeekHeatMap,
} from '../../report/components/index.ts';
import { seconds } from '../format.ts';
import { navigate } from '../route.ts';
import type { FleetResponse, PlanResponse, ReportModel } from '../types.ts';
import { useApi } from '../use-api.ts';

/**
 * A deployment's plan: the content of `uplift plan --format html`, drawn by the same components
 * (src/report/components), with the release notes filtered by type, component and whether they
 * concern this installation.
 */
export function PlanView({ query }: { query: URLSearchParams }) {
  const env = query.get('env') ?? '';
  const deployment = query.get('deployment') ?? '';
  const fleet = useApi<FleetResponse>('/api/fleet');
  const choices = (fleet.data?.environments ?? []).flatMap((e) =>
    e.deployments.map((d) => ({ env: e.name, deployment: d.name })),
  );
  const chosen = env !== '' && deployment !== '';
  const plan = useApi<PlanResponse>(
    chosen
      ? `/api/plan?env=${encodeURIComponent(env)}&deployment=${encodeURIComponent(deployment)}`
      : undefined,
  );
  return (
    <>
      <h1>Plan</h1>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Deployment
          <select
            value={chosen ? `${env}/${deployment}` : ''}
            onChange={(e) => {
              const [en, de] = e.target.value.split('/');
              navigate('/plan', { env: en, deployment: de });
            }}
          >
            <option value="">choose…</option>
            {choices.map((c) => (
              <option key={`${c.env}/${c.deployment}`} value={`${c.env}/${c.deployment}`}>
                {c.env} / {c.deployment}
              </option>
            ))}
          </select>
        </label>
        {chosen ? (
          <button type="button" className="secondary" onClick={plan.reload} disabled={plan.loading}>
            Plan again
          </button>
        ) : null}
      </form>
      {!chosen ? (
        <p>Choose a deployment: its plan is made on its first node, as a rollout's survey does.</p>
      ) : null}
      {plan.error ? (
        <p role="alert" className="error">
          {plan.error}
        </p>
      ) : null}
      {chosen && plan.data === undefined && plan.error === undefined ? (
        <p aria-busy="true">Planning on the deployment's first node…</p>
      ) : null}
      {plan.data ? <Report plan={plan.data} /> : null}
    </>
  );
}

function Report({ plan }: { plan: PlanResponse }) {
  const r = plan.report;
  return (
    <div className="report" data-testid="plan-report">
      <section aria-labelledby="summary-heading">
        <h2 id="summary-heading">
          {r.title.product} {r.title.from} → {r.title.to}{' '}
          <span className="muted">
            ({plan.env} / {plan.deployment}, planned on {plan.node})
          </span>
        </h2>
        {r.banner ? (
          <p className="banner" role="note">
            {r.banner}
          </p>
        ) : null}
        <VerdictBadge verdict={r.verdict.verdict} text={r.verdict.text} />
        <ul>
          {r.verdict.reasons.map((x) => (
            <li key={x.text}>
              {x.text}
              <IllustrativeMark on={x.illustrative} />
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="path-heading">
        <h2 id="path-heading">Path</h2>
        <figure className="graph">
          <VersionGraph graph={r.graph} title="Upgrade path" />
        </figure>
        <ol className="steps">
          {r.steps.map((s) => (
            <li key={s.index}>
              <strong>{s.title}</strong>
              <IllustrativeMark on={s.illustrative} /> — {s.why}{' '}
              <span className="muted">
                (downtime {s.downtime}; pack {s.pack})
              </span>
            </li>
          ))}
        </ol>
        {r.blocked.length > 0 ? (
          <ul>
            {r.blocked.map((b) => (
              <li key={b.from}>
                blocked from {b.from}: {b.reason}
              </li>
            ))}
          </ul>
        ) : null}
      </section>
      <Incompatibilities report={r} />
      <section aria-labelledby="checks-heading">
        <h2 id="checks-heading">Checks</h2>
        {r.checks.howTo ? <p className="howto">{r.checks.howTo}</p> : null}
        <CheckTable rows={r.checks.rows} />
        <ul>
          {r.tasks.map((t) => (
            <li key={t.title}>
              {t.title}{' '}
              {t.check ? <code>{t.check}</code> : <span className="muted">(by hand)</span>}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="time-heading">
        <h2 id="time-heading">Estimate</h2>
        <p data-testid="estimate">
          Downtime p50 <strong>{seconds(r.timeline.downtime.p50)}</strong>, p90{' '}
          <strong>{seconds(r.timeline.downtime.p90)}</strong>; done after{' '}
          {seconds(r.timeline.total.p50)} (p50), {seconds(r.timeline.total.p90)} (p90). Basis:{' '}
          {r.timeline.basis}.
          <IllustrativeMark on={r.timeline.illustrative} />
        </p>
        <figure>
          <Timeline timeline={r.timeline} />
        </figure>
      </section>
      <section aria-labelledby="windows-heading">
        <h2 id="windows-heading">Windows</h2>
        {r.windows.trafficSummary ? <p>Traffic: {r.windows.trafficSummary}</p> : null}
        {r.windows.heat || r.windows.windows ? (
          <figure>
            <WeekHeatMap
              {...(r.windows.heat ? { heat: r.windows.heat } : {})}
              {...(r.windows.windows ? { windows: r.windows.windows } : {})}
            />
          </figure>
        ) : null}
        {r.windows.windows?.map((w) => (
          <p key={w.rank}>
            #{w.rank}: {w.when}
          </p>
        ))}
        {r.windows.howTo ? <p className="howto">{r.windows.howTo}</p> : null}
      </section>
      <Notes report={r} />
    </div>
  );
}

function Incompatibilities({ report: r }: { report: ReportModel }) {
  const [done, setDone] = useState<Record<string, boolean>>({});
  return (
    <section aria-labelledby="incompat-heading">
      <h2 id="incompat-heading">Incompatibilities</h2>
      {r.incompatibilities.length === 0 ? <p>None apply to this installation.</p> : null}
      <ul className="plain">
        {r.incompatibilities.map((i) => (
          <li key={i.id} className="incompat">
            <label className="check">
              <input
                type="checkbox"
                checked={done[i.id] === true}
                onChange={(e) => setDone({ ...done, [i.id]: e.target.checked })}
              />
              <span>
                <strong className={`sev-${i.severity}`}>{i.severity}</strong> <code>{i.id}</code> (
                {i.where}): {i.title}
                <IllustrativeMark on={i.illustrative} /> — {i.outcome}
              </span>
            </label>
            <div className="action">Action: {i.action}</div>
          </li>
        ))}
      </ul>
      {r.incompatibilities.length > 0 ? (
        <p className="muted">
          {Object.values(done).filter(Boolean).length} of {r.incompatibilities.length} action(s)
          ticked in this browser tab (kept nowhere).
        </p>
      ) : null}
    </section>
  );
}

function Notes({ report: r }: { report: ReportModel }) {
  const [type, setType] = useState('');
  const [component, setComponent] = useState('');
  const [mine, setMine] = useState(false);
  const entries = r.notes.entries;
  const types = [...new Set(entries.map((n) => n.type))].sort();
  const components = [
    ...new Set(entries.flatMap((n) => (n.component ? [n.component] : []))),
  ].sort();
  const shown = useMemo(
    () =>
      entries.filter(
        (n) =>
          (type === '' || n.type === type) &&
          (component === '' || n.component === component) &&
          (!mine || n.status === 'applies'),
      ),
    [entries, type, component, mine],
  );
  return (
    <section aria-labelledby="notes-heading">
      <h2 id="notes-heading">Release notes</h2>
      <p>{r.notes.summary}</p>
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value)}>
            <option value="">all</option>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          Component
          <select value={component} onChange={(e) => setComponent(e.target.value)}>
            <option value="">all</option>
            {components.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" checked={mine} onChange={(e) => setMine(e.target.checked)} />
          Applies to me
        </label>
      </form>
      <p aria-live="polite" data-testid="notes-count">
        {shown.length} of {entries.length} note(s)
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">type</th>
            <th scope="col">id</th>
            <th scope="col">title</th>
            <th scope="col">component</th>
            <th scope="col">release</th>
            <th scope="col">concerns you</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((n) => (
            <tr key={`${n.id}@${n.release}`}>
              <td>{n.type}</td>
              <td>
                <code>{n.id}</code>
                {n.security ? <span className="sec"> security</span> : null}
              </td>
              <td>
                {n.title}
                <IllustrativeMark on={n.illustrative} />
              </td>
              <td>{n.component ?? ''}</td>
              <td>{n.release}</td>
              <td>{n.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
