import { useEffect, useState } from 'react';
import { currentSession, errorText, signOut } from './api.ts';
import { linkProps, useRoute, views } from './route.ts';
import type { SessionInfo } from './types.ts';
import { FleetView } from './views/fleet.tsx';
import { HistoryView } from './views/history.tsx';
import { LoginView } from './views/login.tsx';
import { PlanView } from './views/plan.tsx';
import { RolloutView } from './views/rollout.tsx';

/**
 * The dashboard of `uplift serve`: sign in with a token, then the fleet, a deployment's plan, a
 * rollout live, and the history. What a viewer may not do is not shown to a viewer; the server
 * refuses it anyway (docs/api.md).
 */
export function App() {
  const route = useRoute();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [error, setError] = useState<string>();

  useEffect(() => {
    currentSession().then(
      (s) => setSession(s ?? null),
      (e: unknown) => setError(errorText(e)),
    );
  }, []);

  useEffect(() => {
    const label = views.find((v) => v.path === route.path)?.label;
    document.title = session ? `${label ?? 'Not found'} · uplift` : 'Sign in · uplift';
  }, [route.path, session]);

  if (error !== undefined)
    return (
      <main className="page">
        <h1>uplift</h1>
        <p role="alert" className="error">
          {error}
        </p>
      </main>
    );
  if (session === undefined)
    return (
      <main className="page" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (session === null) return <LoginView onSignedIn={setSession} />;

  const operator = session.role === 'operator';
  return (
    <>
      <header className="top">
        <span className="brand">uplift</span>
        <nav aria-label="Views">
          <ul>
            {views.map((v) => (
              <li key={v.path}>
                <a {...linkProps(v.path)} aria-current={route.path === v.path ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who" data-testid="who">
          {session.name} <span className="role">{session.role}</span>
        </span>
        <button
          type="button"
          className="secondary"
          onClick={() => signOut().finally(() => setSession(null))}
        >
          Sign out
        </button>
      </header>
      <main className="page">
        {route.path === '/fleet' ? (
          <FleetView query={route.query} />
        ) : route.path === '/plan' ? (
          <PlanView query={route.query} />
        ) : route.path === '/rollout' ? (
          <RolloutView query={route.query} operator={operator} />
        ) : route.path === '/history' ? (
          <HistoryView query={route.query} />
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              No view at <code>{route.path}</code>. <a {...linkProps('/fleet')}>Go to the fleet</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}
