import { type FormEvent, useState } from 'react';
import { errorText, signIn } from '../api.ts';
import type { SessionInfo } from '../types.ts';

/** Sign in by pasting a token (`uplift serve token create NAME --role R` prints it once). */
export function LoginView({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    signIn(token.trim()).then(
      (s) => {
        setToken('');
        onSignedIn(s);
      },
      (err: unknown) => {
        setError(errorText(err));
        setBusy(false);
      },
    );
  };
  return (
    <main className="page login">
      <h1>Sign in to uplift</h1>
      <p>
        Paste a token made with <code>uplift serve token create NAME --role viewer|operator</code>.
        The browser keeps only a session cookie; the token is not stored.
      </p>
      <form onSubmit={submit}>
        <label htmlFor="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </main>
  );
}
