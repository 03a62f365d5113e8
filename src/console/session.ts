import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Scope, TokenInfo } from './types.js';

/** Who is signed in: the token's name and scopes decide which buttons the console offers. */
export interface Session {
  token: TokenInfo;
  can: (scope: Scope) => boolean;
  signOut: () => void;
}

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export function sessionOf(token: TokenInfo, signOut: () => void): Session {
  return { token, signOut, can: (needed) => token.scopes.some((s) => RANK[s] >= RANK[needed]) };
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('no session');
  return s;
}
