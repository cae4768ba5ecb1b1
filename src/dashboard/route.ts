import { useEffect, useState } from 'react';

/** The dashboard's views, one path each; the query carries the selection (env, deployment, run). */
export const views = [
  { path: '/fleet', label: 'Fleet' },
  { path: '/plan', label: 'Plan' },
  { path: '/rollout', label: 'Rollout' },
  { path: '/history', label: 'History' },
] as const;

export interface Route {
  path: string;
  query: URLSearchParams;
}

const current = (): Route => ({
  path: location.pathname === '/' ? '/fleet' : location.pathname,
  query: new URLSearchParams(location.search),
});

/** Goes to a view without reloading the page (the server answers every such path with the app). */
export function navigate(path: string, query: Record<string, string | undefined> = {}): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  const url = `${path}${q.size > 0 ? `?${q}` : ''}`;
  if (url !== `${location.pathname}${location.search}`) history.pushState(null, '', url);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => setRoute(current());
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}

/** A link that navigates inside the app (and still works as a plain link: new tab, copy). */
export function linkProps(path: string, query: Record<string, string | undefined> = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, v);
  return {
    href: `${path}${q.size > 0 ? `?${q}` : ''}`,
    onClick: (e: { preventDefault(): void; metaKey: boolean; ctrlKey: boolean }) => {
      if (e.metaKey || e.ctrlKey) return;
      e.preventDefault();
      navigate(path, query);
    },
  };
}
