/** The last `max` characters of `s`, trimmed, marked when cut. */
export function tail(s: string, max: number): string {
  const t = s.trim();
  return t.length > max ? `…${t.slice(-max)}` : t;
}

/** The first `max` characters of `s`, trimmed, marked when cut. */
export function head(s: string, max: number): string {
  const t = s.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** A URL for messages: its user name and password replaced, so credentials never reach a log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}
