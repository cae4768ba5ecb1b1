import { renderToStaticMarkup } from 'react-dom/server';
import { formatDuration } from '../util/index.ts';
import { CheckTable } from './components/check-table.tsx';
import { IllustrativeMark } from './components/illustrative-mark.tsx';
import { reportCss } from './components/styles.ts';
import { Timeline } from './components/timeline.tsx';
import { VerdictBadge } from './components/verdict-badge.tsx';
import { VersionGraph } from './components/version-graph.tsx';
import { WeekHeatMap } from './components/week-heat-map.tsx';
import type { Evidence, ReportModel } from './model.ts';

/** The report as one self-contained HTML document: inline CSS and SVG, no script, no URL. */
export function renderReportHtml(r: ReportModel): string {
  return `<!doctype html>\n${renderToStaticMarkup(<ReportDocument report={r} />)}\n`;
}

function EvidenceText({ used, missing }: { used: Evidence[]; missing: string[] }) {
  if (used.length + missing.length === 0) return null;
  return (
    <span className="muted">
      {' ('}
      {used.map((u, k) => (
        <span key={u.name}>
          {k > 0 ? '; ' : ''}
          <code>{u.name}</code> = {u.value}
        </span>
      ))}
      {missing.length > 0 ? (
        <span>
          {used.length > 0 ? '; ' : ''}missing:{' '}
          {missing.map((m, k) => (
            <span key={m}>
              {k > 0 ? ', ' : ''}
              <code>{m}</code>
            </span>
          ))}
        </span>
      ) : null}
      {')'}
    </span>
  );
}

export function ReportDocument({ report: r }: { report: ReportModel }) {
  const title = `Upgrade plan: ${r.title.product} ${r.title.from} → ${r.title.to}`;
  const t = r.timeline;
  const w = r.windows;
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="generator" content="uplift plan --format html" />
        <title>{title}</title>
        <style>{reportCss}</style>
      </head>
      <body>
        <main>
          <header id="summary">
            <h1>
              {title}
              {r.title.illustrativeTarget ? <span className="ill">illustrative target</span> : null}
            </h1>
            {r.banner ? (
              <p className="banner" role="note" id="illustrative-banner">
                {r.banner}
              </p>
            ) : null}
            <section aria-labelledby="verdict-heading" id="verdict">
              <h2 id="verdict-heading">Verdict</h2>
              <VerdictBadge verdict={r.verdict.verdict} text={r.verdict.text} />
              <ul>
                {r.verdict.reasons.map((x) => (
                  <li key={x.text}>
                    {x.text}
                    <IllustrativeMark on={x.illustrative} />
                    {x.missingFacts.length > 0 ? (
                      <EvidenceText used={[]} missing={x.missingFacts} />
                    ) : null}
                  </li>
                ))}
              </ul>
              <p className="ids">
                Profile <code>{r.ids.profile}</code> · catalog{' '}
                <code>{`${r.ids.catalog.slice(0, 19)}…`}</code> · plan <code>{r.ids.plan}</code>
                {r.channel !== undefined ? (
                  <>
                    {' '}
                    · channel <code>{r.channel}</code>
                  </>
                ) : null}
              </p>
              {r.announced.length > 0 ? (
                <p>
                  Announced, not yet available:{' '}
                  {r.announced
                    .map((a) => `${a.version}${a.date ? ` (expected ${a.date})` : ''}`)
                    .join(', ')}
                </p>
              ) : null}
            </section>
          </header>

          <section aria-labelledby="path-heading" id="path">
            <h2 id="path-heading">Path</h2>
            <figure>
              <VersionGraph graph={r.graph} title="Upgrade path" />
              <figcaption>
                <ul className="legend">
                  <li>
                    <span className="swatch" style={{ background: '#0b5cad' }} />
                    chosen hop (numbered)
                  </li>
                  <li>
                    <span
                      className="swatch"
                      style={{ background: '#fff', borderStyle: 'dashed' }}
                    />
                    conditional stop
                  </li>
                  <li>
                    <span
                      className="swatch"
                      style={{ background: '#fdecea', borderColor: '#b3261e' }}
                    />
                    blocked
                  </li>
                  {r.graph.nodes.some((n) => n.illustrative) ? (
                    <li>
                      <span
                        className="swatch"
                        style={{
                          background: '#f4eefb',
                          borderColor: '#6b3fa0',
                          borderStyle: 'dashed',
                        }}
                      />
                      illustrative
                    </li>
                  ) : null}
                </ul>
              </figcaption>
            </figure>
            <h3>Steps</h3>
            {r.steps.length === 0 ? (
              <p>No steps.</p>
            ) : (
              <table>
                <colgroup>
                  <col style={{ width: '2.2rem' }} />
                  <col style={{ width: '24%' }} />
                  <col />
                  <col style={{ width: '28%' }} />
                  <col style={{ width: '7rem' }} />
                </colgroup>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">step</th>
                    <th scope="col">why</th>
                    <th scope="col">pack</th>
                    <th scope="col">downtime</th>
                  </tr>
                </thead>
                <tbody>
                  {r.steps.map((s) => (
                    <tr key={s.index}>
                      <td>{s.index}</td>
                      <td>
                        {s.title}
                        <IllustrativeMark on={s.illustrative} />
                      </td>
                      <td>
                        {s.why}
                        {s.settle ? <div className="muted">{s.settle}</div> : null}
                      </td>
                      <td>
                        {s.packIsFile ? <code>{s.pack}</code> : s.pack}
                        <IllustrativeMark on={s.packIllustrative} />
                      </td>
                      <td>
                        {s.downtime}
                        <IllustrativeMark on={r.time.illustrative} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {r.blocked.length > 0 ? (
              <>
                <h3>Blocked</h3>
                <ul>
                  {r.blocked.map((b) => (
                    <li key={b.from}>
                      from {b.from}: {b.reason}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </section>

          <section aria-labelledby="incompatibilities-heading" id="incompatibilities">
            <h2 id="incompatibilities-heading">Incompatibilities on this path</h2>
            {r.incompatibilities.length === 0 ? <p>None apply to this installation.</p> : null}
            <ul>
              {r.incompatibilities.map((i) => (
                <li key={i.id}>
                  <strong className={`sev-${i.severity}`}>{i.severity}</strong> <code>{i.id}</code>{' '}
                  ({i.where}): {i.title}
                  <IllustrativeMark on={i.illustrative} /> — {i.outcome}
                  <EvidenceText used={i.evidence} missing={i.missingFacts} />
                  <div>Action: {i.action}</div>
                </li>
              ))}
            </ul>
            {r.prerequisites.length > 0 ? (
              <>
                <h3>Outside systems</h3>
                <ul>
                  {r.prerequisites.map((p) => (
                    <li key={p.id}>
                      <strong>{p.status}</strong> {p.title}
                      <IllustrativeMark on={p.illustrative} />
                      <EvidenceText used={p.evidence} missing={p.missingFacts} /> — {p.action}
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
            {r.customizedFiles.length > 0 ? (
              <>
                <h3>Customized files</h3>
                <p>
                  Files of the installation that differ from the vendor's files of its version; back
                  them up, the upgrade must carry these edits forward.
                </p>
                <ul>
                  {r.customizedFiles.map((f) => (
                    <li key={`${f.kind}:${f.file}`}>
                      {f.kind}: <code>{f.file}</code>
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </section>

          <section aria-labelledby="checks-heading" id="checks">
            <h2 id="checks-heading">Pre-upgrade tasks</h2>
            <ul>
              {r.tasks.map((x) => (
                <li key={x.title}>
                  {x.title}
                  <IllustrativeMark on={x.illustrative} />{' '}
                  {x.check ? (
                    <span className="muted">
                      (automated check: <code>{x.check}</code>)
                    </span>
                  ) : (
                    <span className="muted">(by hand)</span>
                  )}
                </li>
              ))}
            </ul>
            <h3>Check results</h3>
            {r.checks.howTo ? <p className="howto">{r.checks.howTo}</p> : null}
            {r.checks.rows.length > 0 ? <CheckTable rows={r.checks.rows} /> : null}
          </section>

          <section aria-labelledby="time-heading" id="time" className="page-break">
            <h2 id="time-heading">Time</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">phase</th>
                  <th scope="col">estimate</th>
                </tr>
              </thead>
              <tbody>
                {r.time.rows.map((row) => (
                  <tr key={row.label}>
                    <td>{row.strong ? <strong>{row.label}</strong> : row.label}</td>
                    <td>
                      {row.strong ? <strong>{row.value}</strong> : row.value}
                      <IllustrativeMark on={r.time.illustrative} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.time.assumptions.length > 0 ? (
              <ul>
                {r.time.assumptions.map((a) => (
                  <li key={a}>Assumed: {a}</li>
                ))}
              </ul>
            ) : null}
          </section>

          <section aria-labelledby="timeline-heading" id="timeline">
            <h2 id="timeline-heading">Downtime timeline</h2>
            <p>
              Basis: {t.basis}.
              <IllustrativeMark on={t.illustrative} />
            </p>
            <figure>
              <Timeline timeline={t} />
              <figcaption>
                Solid: p50; hatched: up to p90. Downtime p50 {formatDuration(t.downtime.p50)}, p90{' '}
                {formatDuration(t.downtime.p90)}; validated after {formatDuration(t.total.p50)}{' '}
                (p50), {formatDuration(t.total.p90)} (p90). Rollback, if needed:{' '}
                {formatDuration(t.rollback.p50)} (p50), {formatDuration(t.rollback.p90)} (p90).
              </figcaption>
            </figure>
          </section>

          <section aria-labelledby="windows-heading" id="windows">
            <h2 id="windows-heading">Windows</h2>
            {w.trafficSummary ? <p>Traffic: {w.trafficSummary}</p> : null}
            {w.heat || w.windows ? (
              <figure>
                <WeekHeatMap
                  {...(w.heat ? { heat: w.heat } : {})}
                  {...(w.windows ? { windows: w.windows } : {})}
                />
                <figcaption>
                  One cell per 15-minute slot of the week (UTC); proposed windows outlined and
                  numbered by rank.
                </figcaption>
              </figure>
            ) : null}
            {w.windows ? (
              w.windows.length === 0 ? (
                <p>No window fits.</p>
              ) : (
                <table>
                  <colgroup>
                    <col style={{ width: '3.5rem' }} />
                    <col style={{ width: '30%' }} />
                    <col style={{ width: '5.5rem' }} />
                    <col style={{ width: '5.5rem' }} />
                    <col style={{ width: '5.5rem' }} />
                    <col />
                  </colgroup>
                  <thead>
                    <tr>
                      <th scope="col">rank</th>
                      <th scope="col">window</th>
                      <th scope="col">transfers</th>
                      <th scope="col">accounts</th>
                      <th scope="col">bytes</th>
                      <th scope="col">why</th>
                    </tr>
                  </thead>
                  <tbody>
                    {w.windows.map((x) => (
                      <tr key={x.rank}>
                        <td>{x.rank}</td>
                        <td>{x.when}</td>
                        <td>{x.expectedTransfers}</td>
                        <td>{x.expectedAccounts}</td>
                        <td>{x.expectedBytes}</td>
                        <td>{x.reasons.join(' ')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            ) : null}
            {w.howTo ? (
              <p className="howto" id="windows-howto">
                {w.howTo}
              </p>
            ) : null}
          </section>

          <section aria-labelledby="backout-heading" id="backout">
            <h2 id="backout-heading">Back-out plan</h2>
            <ul>
              {r.backout.steps.map((s) => (
                <li key={s.when}>
                  <strong>{s.when}</strong>: {s.what}
                </li>
              ))}
            </ul>
            <p className="ponr" id="point-of-no-return">
              <strong>Point of no return</strong>: {r.backout.pointOfNoReturn}
            </p>
          </section>

          <section aria-labelledby="notes-heading" id="notes">
            <h2 id="notes-heading">Release notes</h2>
            <p>{r.notes.summary}</p>
            <table>
              <colgroup>
                <col style={{ width: '5.5rem' }} />
                <col style={{ width: '7.5rem' }} />
                <col />
                <col style={{ width: '7rem' }} />
                <col style={{ width: '6.5rem' }} />
                <col style={{ width: '20%' }} />
              </colgroup>
              <thead>
                <tr>
                  <th scope="col">type</th>
                  <th scope="col">id</th>
                  <th scope="col">title</th>
                  <th scope="col">release</th>
                  <th scope="col">concerns you</th>
                  <th scope="col">source</th>
                </tr>
              </thead>
              <tbody>
                {r.notes.entries.map((n) => (
                  <tr key={`${n.id}@${n.release}`}>
                    <td>{n.type}</td>
                    <td>
                      <code>{n.id}</code>
                      {n.security ? <span title="security"> 🔒</span> : null}
                    </td>
                    <td>
                      {n.title}
                      <IllustrativeMark on={n.illustrative} />
                    </td>
                    <td>{n.release}</td>
                    <td>{n.status}</td>
                    <td>{n.source ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </main>
      </body>
    </html>
  );
}
