/**
 * The console's only way to the origin: the public REST API (/v1) on this same origin, with the
 * operator's API token as bearer. Every failure becomes an ApiFailure carrying the API's own
 * error code and message, which the pages show as they are.
 */

const TOKEN_KEY = 'sigma-console-token';

/** The token lives in session storage: it is gone when the tab closes, and other tabs sign in on their own. */
export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Called when the API says the token is no longer good (401): the console signs out. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, token = tokenStore.get()): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure(0, 'NETWORK', 'the origin cannot be reached');
  }
  if (r.status === 204) return undefined as T;
  const data = await r.json().catch(() => null) as { error?: { code?: string; message?: string } } | null;
  if (!r.ok) {
    const failure = new ApiFailure(r.status, data?.error?.code ?? `HTTP_${r.status}`, data?.error?.message ?? r.statusText);
    if (r.status === 401 && token !== null) onUnauthorized();
    throw failure;
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

/** Every item of a paged listing (pages of 500 until nextCursor is null). */
export async function allPages<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: { items: T[]; nextCursor: string | null } =
      await get(`${path}${sep}limit=500${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return items;
}

/** A file the API serves behind the token (a recording), saved by the browser under `name`. */
export async function download(path: string, name: string): Promise<void> {
  const r = await fetch(path, { headers: { authorization: `Bearer ${tokenStore.get() ?? ''}` } });
  if (!r.ok) {
    const data = await r.json().catch(() => null) as { error?: { code?: string; message?: string } } | null;
    throw new ApiFailure(r.status, data?.error?.code ?? `HTTP_${r.status}`, data?.error?.message ?? r.statusText);
  }
  const url = URL.createObjectURL(await r.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const enc = encodeURIComponent;
