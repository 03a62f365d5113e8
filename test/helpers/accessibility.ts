import type { Page } from 'playwright-core';

/**
 * What a page must hold for keyboard and screen-reader users and for low vision, checked in the
 * browser on what is rendered: every form control has a label, every button and link a name,
 * and every piece of visible text a contrast of at least 4.5:1 against the background it is
 * drawn on (3:1 for large text), WCAG 2.1 AA. Answers one line per problem (empty: none).
 */
export function accessibilityProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent ?? '').trim().slice(0, 30)}"`;
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
    };

    for (const el of document.querySelectorAll('input, select, textarea')) {
      const input = el as HTMLInputElement;
      if (input.type === 'hidden' || !visible(input)) continue;
      if ((input.labels?.length ?? 0) === 0 && !input.getAttribute('aria-label')) problems.push(`no label: ${describe(el)}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (!visible(el)) continue;
      if ((el.textContent ?? '').trim() === '' && !el.getAttribute('aria-label')) problems.push(`no name: ${describe(el)}`);
    }

    // sRGB relative luminance and contrast ratio, as WCAG defines them.
    const rgba = (c: string) => (c.match(/[\d.]+/g) ?? ['0', '0', '0', '0']).map(Number) as [number, number, number, number?];
    const luminance = ([r, g, b]: number[]) => {
      const lin = (v: number) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    const background = (el: Element | null): number[] => {
      for (let e = el; e; e = e.parentElement) {
        const [r, g, b, a] = rgba(getComputedStyle(e).backgroundColor);
        if (a === undefined || a > 0.5) return [r, g, b];
      }
      return [255, 255, 255];
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set<Element>();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || (n.textContent ?? '').trim() === '' || !visible(el)) continue;
      if (el.closest('video, canvas, .uplot .u-over')) continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const fg = rgba(style.color), bg = background(el);
      const [l1, l2] = [luminance(fg.slice(0, 3) as number[]), luminance(bg)].sort((a, b) => b - a);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
      const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${describe(el)} (${style.color} on rgb(${bg.join(', ')}))`);
    }
    return problems;
  });
}
