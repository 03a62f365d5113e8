import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { get, tokenStore, whenUnauthorized } from './api.js';
import { Layout } from './layout.js';
import { SignIn } from './pages/sign-in.js';
import { sessionOf, SessionContext, type Session } from './session.js';
import type { TokenInfo } from './types.js';

/** The operator console: sign in with an API token, then the pages of layout.tsx. */
function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);

  const signOut = () => {
    tokenStore.clear();
    setSession(null);
  };
  const signIn = (token: TokenInfo) => setSession(sessionOf(token, signOut));

  useEffect(() => {
    whenUnauthorized(signOut);
    if (tokenStore.get() === null) { setSession(null); return; }
    get<TokenInfo>('/v1/token').then(signIn, () => { tokenStore.clear(); setSession(null); });
  }, []);

  if (session === undefined) return <p class="loading">Signing in…</p>;
  if (session === null) return <SignIn onSignedIn={signIn} />;
  return <SessionContext.Provider value={session}><Layout /></SessionContext.Provider>;
}

render(<App />, document.getElementById('app')!);
