import { useEffect, useState } from 'react';
import { api, errorText } from '../api.ts';
import { when } from '../format.ts';
import { linkProps, navigate } from '../route.ts';
import type { AuditEntry, RunRecord } from '../types.ts';
import { useApi } from '../use-api.ts';

/** How often the audit is read again while the page is visible: new rows show within a second. */
const pollMs = 500;

/**
 * Every run and every action, who did it: the runs, and the audit searched by text, environment
 * or run, newest first, exportable as CSV and JSON (the same query, downloaded).
 */
export function HistoryView({ query }: { query: URLSearchParams }) {
  const f = { q: query.get('q') ?? '', env: query.get('env') ?? '', run: query.get('run') ?? '' };
  const [text, setText] = useState(f.q);
  const runs = useApi<{ runs: RunRecord[] }>('/api/runs?limit=100');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== '') params.set(k, v);
  params.set('limit', '500');
  const path = `/api/audit?${params}`;
  const [entries, setEntries] = useState<AuditEntry[]>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    let on = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastId: number | undefined;
    const read = () => {
      if (document.visibilityState === 'hidden') {
        timer = setTimeout(read, pollMs);
        return;
      }
      api<{ entries: AuditEntry[] }>(path).then(
        (r) => {
          if (!on) return;
          const top = r.entries.at(-1)?.id;
          if (top !== lastId || lastId === undefined) {
            lastId = top;
            setEntries(r.entries);
          }
          setError(undefined);
          timer = setTimeout(read, pollMs);
        },
        (e: unknown) => {
          if (!on) return;
          setError(errorText(e));
          timer = setTimeout(read, pollMs * 4);
        },
      );
    };
    read();
    return () => {
      on = false;
      clearTimeout(timer);
    };
  }, [path]);

  useEffect(() => {
    if (text === f.q) return;
    const t = setTimeout(() => navigate('/history', { ...f, q: text }), 250);
    return () => clearTimeout(t);
  });

  const exportParams = new URLSearchParams(params);
  exportParams.set('limit', '100000');
  const newestFirst = entries ? [...entries].reverse() : undefined;
  return (
    <>
      <h1>History</h1>
      <section aria-labelledby="runs-heading">
        <h2 id="runs-heading">Runs</h2>
        {runs.error ? (
          <p role="alert" className="error">
            {runs.error}
          </p>
        ) : null}
        <table data-testid="runs">
          <thead>
            <tr>
              <th scope="col">started</th>
              <th scope="col">environment</th>
              <th scope="col">deployments</th>
              <th scope="col">outcome</th>
              <th scope="col">controller</th>
              <th scope="col">finished</th>
            </tr>
          </thead>
          <tbody>
            {(runs.data?.runs ?? []).map((r) => (
              <tr key={r.id}>
                <td>
                  <a {...linkProps('/rollout', { env: r.env, run: r.id })}>{when(r.startedAt)}</a>
                </td>
                <td>{r.env}</td>
                <td>{r.deployments.join(', ')}</td>
                <td>
                  <strong className={`state-${r.outcome}`}>{r.outcome}</strong>
                  {r.dryRun ? ' (dry run)' : ''}
                </td>
                <td>{r.controller}</td>
                <td>{when(r.finishedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit</h2>
        <search>
          <form className="filters" onSubmit={(e) => e.preventDefault()}>
            <label>
              Search
              <input
                type="search"
                value={text}
                onChange={(e) => setText(e.target.value)}
                placeholder="actor, action, node…"
              />
            </label>
            {f.env ? (
              <button
                type="button"
                className="secondary"
                onClick={() => navigate('/history', { ...f, env: '' })}
              >
                environment {f.env} ✕
              </button>
            ) : null}
            {f.run ? (
              <button
                type="button"
                className="secondary"
                onClick={() => navigate('/history', { ...f, run: '' })}
              >
                run {f.run} ✕
              </button>
            ) : null}
            <a
              className="button secondary"
              href={`/api/audit?${exportParams}&format=csv`}
              download="uplift-audit.csv"
            >
              Export CSV
            </a>
            <a
              className="button secondary"
              href={`/api/audit?${exportParams}&format=json`}
              download="uplift-audit.json"
            >
              Export JSON
            </a>
          </form>
        </search>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <p aria-live="polite" data-testid="audit-count">
          {newestFirst === undefined
            ? 'Reading the audit…'
            : `${newestFirst.length} entr${newestFirst.length === 1 ? 'y' : 'ies'}, newest first`}
        </p>
        <section
          className="scroll"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scroll box must be reachable by keyboard (axe: scrollable-region-focusable)
          tabIndex={0}
          aria-label="Audit entries"
        >
          <table data-testid="audit">
            <thead>
              <tr>
                <th scope="col">at</th>
                <th scope="col">who</th>
                <th scope="col">action</th>
                <th scope="col">outcome</th>
                <th scope="col">where</th>
                <th scope="col">detail</th>
              </tr>
            </thead>
            <tbody>
              {(newestFirst ?? []).map((e) => (
                <tr key={e.id} data-audit-id={e.id}>
                  <td>{when(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>{e.action}</td>
                  <td className={`outcome-${e.outcome}`}>{e.outcome}</td>
                  <td>
                    {[e.env, e.deployment, e.node].filter(Boolean).join(' / ')}
                    {e.runId ? (
                      <>
                        {' '}
                        <a {...linkProps('/rollout', { env: e.env, run: e.runId })}>run</a>
                      </>
                    ) : null}
                  </td>
                  <td className="detail">{e.detail ? JSON.stringify(e.detail) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </section>
    </>
  );
}
