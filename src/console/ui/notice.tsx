import { useEffect, useState } from 'preact/hooks';
import { ApiFailure } from '../api.js';

/**
 * One status line for the whole console (role=status, aria-live): every action says it was done
 * or shows the API's error message, so a screen-reader user hears it too.
 */

type Notice = { kind: 'ok' | 'error'; text: string; at: number };
let current: Notice | null = null;
const listeners = new Set<(n: Notice | null) => void>();

/** A confirmation fades after this; an error stays until dismissed or replaced. */
const OK_SHOWN_MS = 6000;

export function notify(kind: Notice['kind'], text: string): void {
  const notice = { kind, text, at: Date.now() };
  current = notice;
  for (const l of listeners) l(notice);
  if (kind === 'ok') {
    setTimeout(() => {
      if (current !== notice) return;
      current = null;
      for (const l of listeners) l(null);
    }, OK_SHOWN_MS);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ApiFailure) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs an action: asks first when `confirmText` is given, then reports the outcome. Resolves
 * with the action's value, or undefined when refused, cancelled or failed.
 */
export async function act<T>(done: string, action: () => Promise<T>, confirmText?: string): Promise<T | undefined> {
  if (confirmText !== undefined && !window.confirm(confirmText)) return undefined;
  try {
    const value = await action();
    notify('ok', done);
    return value;
  } catch (err) {
    notify('error', describeError(err));
    return undefined;
  }
}

export function NoticeLine() {
  const [notice, setNotice] = useState<Notice | null>(current);
  useEffect(() => {
    listeners.add(setNotice);
    return () => { listeners.delete(setNotice); };
  }, []);
  return (
    <div class={`notice ${notice?.kind ?? ''}`} role="status" aria-live="polite" data-testid="notice">
      {notice?.text ?? ''}
      {notice && <button type="button" class="link" aria-label="Dismiss the message" onClick={() => { current = null; setNotice(null); }}>×</button>}
    </div>
  );
}

/** An error of a polled section, in place of its content. */
export function ErrorLine({ error }: { error: unknown }) {
  return <p class="error" role="alert">{describeError(error)}</p>;
}
