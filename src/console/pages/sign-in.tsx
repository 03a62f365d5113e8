import { useState } from 'preact/hooks';
import { api, tokenStore } from '../api.js';
import type { TokenInfo } from '../types.js';
import { describeError } from '../ui/notice.js';

/** Paste an API token: checked against the API (GET /v1/token) before it is kept for this tab. */
export function SignIn({ onSignedIn }: { onSignedIn: (t: TokenInfo) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const token = (new FormData(e.target as HTMLFormElement).get('token') as string).trim();
    setBusy(true);
    try {
      const info = await api<TokenInfo>('GET', '/v1/token', undefined, token);
      tokenStore.set(token);
      onSignedIn(info);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>Sigma Live console</h1>
      <form onSubmit={submit}>
        <label>
          <span>API token</span>
          <input name="token" type="password" required autoComplete="off" autoFocus aria-describedby="token-help" />
        </label>
        <p id="token-help" class="hint">
          An API token of this origin (api.adminToken, the one printed at first start, or one made in Operations).
          A read-only token gives a read-only console. It is kept for this tab only.
        </p>
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p class="error" role="alert">{error}</p>}
      </form>
    </main>
  );
}
