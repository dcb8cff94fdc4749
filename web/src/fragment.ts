// The secrets an invite link carries in its #fragment, which browsers never
// send to a server: the meeting key (`k`, base64url) and, where the host chose
// so, the password (`p`, URL-encoded). docs/protocol.md: `/<meeting>#k=...&p=...`.

import { parseMeetingKey } from './crypto/e2e';

export interface LinkSecrets {
  /** The meeting key (16 bytes), or null when the link has none (or a malformed one). */
  key: Uint8Array<ArrayBuffer> | null;
  /** The meeting password, or null. */
  password: string | null;
}

export function parseFragment(hash: string): LinkSecrets {
  const out: LinkSecrets = { key: null, password: null };
  for (const part of hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1));
    } catch {
      continue;
    }
    if (name === 'k') out.key = parseMeetingKey(value);
    else if (name === 'p' && value !== '') out.password = value;
  }
  return out;
}

/** The fragment for a link: `#k=<key>` and `&p=<password>` when given; '' when neither. */
export function fragment(key: string | null, password: string | null): string {
  const parts: string[] = [];
  if (key) parts.push(`k=${key}`);
  if (password) parts.push(`p=${encodeURIComponent(password)}`);
  return parts.length ? '#' + parts.join('&') : '';
}

/** The invite link of a meeting. */
export function inviteLink(origin: string, room: string, key: string | null, password: string | null): string {
  return `${origin}/${encodeURIComponent(room)}${fragment(key, password)}`;
}
