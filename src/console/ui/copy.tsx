import { useState } from 'preact/hooks';

/** Puts text on the clipboard; where the Clipboard API is refused (plain http off localhost), the old way. */
async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = Object.assign(document.createElement('textarea'), { value: text });
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

/** A read-only value with its copy button: keys, URLs, command lines. */
export function CopyField({ label, value, testid }: { label: string; value: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="copy-field">
      <label>
        <span>{label}</span>
        <input readOnly value={value} data-testid={testid} onFocus={(e) => (e.target as HTMLInputElement).select()} />
      </label>
      <button type="button" aria-label={`Copy ${label}`} onClick={async () => {
        await copyText(value);
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }}>{copied ? 'Copied' : 'Copy'}</button>
    </div>
  );
}
