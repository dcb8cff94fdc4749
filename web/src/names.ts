// Meeting and display name rules, the same as the server's (docs/protocol.md),
// so a person learns about a bad name before anything is sent.

/** Path segments the server uses itself; they can never be meeting names. */
export const RESERVED = new Set(['ws', 'api', 'assets', 'healthz', 'readyz', 'metrics', 'privacy']);

export type MeetingNameProblem = 'empty' | 'short' | 'long' | 'start' | 'chars' | 'reserved';
export type DisplayNameProblem = 'empty' | 'long' | 'control';

export type Checked<P> = { ok: true; value: string } | { ok: false; problem: P };

const ALLOWED = /^[\p{L}\p{N}_-]+$/u;
const FIRST = /^[\p{L}\p{N}]/u;
// \p{Cc} are the C0/C1 controls; format characters (bidi overrides etc.) are
// left alone because the server only forbids control characters.
const CONTROL = /\p{Cc}/u;

/** Counts code points, as the server counts runes, not UTF-16 units. */
export function length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Normalises (trims, lowercases) and checks a meeting name. */
export function checkMeetingName(raw: string): Checked<MeetingNameProblem> {
  const value = raw.trim().toLowerCase();
  if (value === '') return { ok: false, problem: 'empty' };
  if (!ALLOWED.test(value)) return { ok: false, problem: 'chars' };
  if (!FIRST.test(value)) return { ok: false, problem: 'start' };
  const n = length(value);
  if (n < 3) return { ok: false, problem: 'short' };
  if (n > 64) return { ok: false, problem: 'long' };
  if (RESERVED.has(value)) return { ok: false, problem: 'reserved' };
  return { ok: true, value };
}

/** Trims and checks a display name. */
export function checkDisplayName(raw: string): Checked<DisplayNameProblem> {
  const value = raw.trim();
  if (value === '') return { ok: false, problem: 'empty' };
  if (CONTROL.test(value)) return { ok: false, problem: 'control' };
  if (length(value) > 64) return { ok: false, problem: 'long' };
  return { ok: true, value };
}

/**
 * Reads the meeting name from a location path such as "/Amber-Falcon".
 * Returns null for the start page ("/"), and the raw decoded segment otherwise
 * (which may still be invalid: the caller checks it and explains).
 */
export function meetingFromPath(pathname: string): string | null {
  const raw = pathname.replace(/^\/+/, '');
  if (raw === '') return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Up to two initials of a display name, for the avatar; works for any script. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter((w) => w !== '');
  const first = (w: string | undefined): string => (w ? (Array.from(w)[0] ?? '') : '');
  if (words.length === 0) return '?';
  if (words.length === 1) return first(words[0]).toLocaleUpperCase();
  return (first(words[0]) + first(words[words.length - 1])).toLocaleUpperCase();
}

/** Number of avatar colours in the stylesheet (.avatar-c0 .. .avatar-c7). */
export const AVATAR_COLOURS = 8;

/** A stable colour index for a participant id (FNV-1a), so everyone sees the same colour. */
export function colourIndex(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % AVATAR_COLOURS;
}
