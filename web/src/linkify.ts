// Splits chat text into plain text and http(s) links. The UI turns links into
// <a> elements built as DOM nodes; nothing here (or there) is ever parsed as
// HTML, so "<img src=x onerror=...>" stays text.

export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?*]/;
const OPENER: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
const count = (s: string, c: string): number => s.split(c).length - 1;

/** Drops punctuation after a link ("see https://x.org.") and closing brackets it did not open. */
function trimLink(s: string): string {
  let out = s;
  for (;;) {
    const last = out.slice(-1);
    const opener = OPENER[last];
    if (TRAILING.test(last) || (opener && count(out, last) > count(out, opener))) out = out.slice(0, -1);
    else return out;
  }
}

/** A link's target when it is a valid http or https URL, else null. */
export function safeHref(s: string): string | null {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  const push = (t: string): void => {
    if (!t) return;
    const prev = out[out.length - 1];
    if (prev && prev.kind === 'text') prev.text += t;
    else out.push({ kind: 'text', text: t });
  };
  for (const m of text.matchAll(URL_RE)) {
    const start = m.index;
    const raw = trimLink(m[0]);
    const href = safeHref(raw);
    push(text.slice(last, start));
    if (href && /^https?:\/\/[^/?#]/i.test(raw)) out.push({ kind: 'link', text: raw, href });
    else push(raw);
    last = start + raw.length;
  }
  push(text.slice(last));
  return out;
}
