// Meeting and display name rules, the same as the server's (docs/protocol.md),
// so a person learns about a bad name before anything is sent.

/** Path segments the server uses itself; they can never be meeting names. */
export const RESERVED = new Set(['ws', 'api', 'assets', 'healthz', 'readyz', 'metrics', 'privacy']);

export type MeetingNameProblem = 'empty' | 'short' | 'long' | 'start' | 'chars' | 'marks' | 'mixed' | 'reserved';
export type DisplayNameProblem = 'empty' | 'long' | 'control' | 'marks' | 'invisible';

export type Checked<P> = { ok: true; value: string } | { ok: false; problem: P };

// The character rules of internal/names (chars.go), rule for rule. A name
// must not deceive: no invisible or blank characters, no bidi controls, no
// tag characters, no pile of combining marks, and no meeting name that
// looks like another. The cases in internal/names/testdata/name-cases.json
// hold both sides to the same answers.

/** Characters no name may hold (the Go side's `forbidden`). */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800\u{1D159}]/u;
const VISIBLE = /[\p{L}\p{N}\p{S}\p{P}]/u;
const MARK = /\p{M}/u;
const VARIATION_SELECTOR = /\p{Variation_Selector}/u;
const JOINERS = new Set(['\u200c', '\u200d']);
const MEETING_CHAR = /[\p{L}\p{N}_-]/u;
const MEETING_MARK = /[\p{Mn}\p{Mc}]/u;
const FIRST = /^[\p{L}\p{N}]/u;
/** Go's strings.TrimSpace: Unicode White_Space at both ends (String.trim differs in U+0085 and U+FEFF). */
const EDGE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
const LOOKALIKE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];

const MAX_MARKS_PER_BASE = 4;
const MAX_MARKS = 32;

function trimSpace(s: string): string {
  return s.replace(EDGE_SPACE, '');
}

function isVisible(c: string): boolean {
  return VISIBLE.test(c) && !FORBIDDEN.test(c);
}

/** Counts code points, as the server counts runes, not UTF-16 units. */
export function length(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Combining marks: none first, at most 4 in a row, 32 in all. */
function marksOk(chars: readonly string[]): boolean {
  let run = 0;
  let total = 0;
  for (const [i, c] of chars.entries()) {
    if (!MARK.test(c)) {
      run = 0;
      continue;
    }
    if (i === 0 || ++run > MAX_MARKS_PER_BASE || ++total > MAX_MARKS) return false;
  }
  return true;
}

/** Go's strings.ToLower, code point by code point (String.toLowerCase would turn "İ" into "i̇" and a final "Σ" into "ς"). */
function lower(s: string): string {
  return Array.from(s, (c) => (c === '\u0130' ? 'i' : c.toLowerCase())).join('');
}

/** NFKC, lowercase and trim until nothing changes, as the server does; null if it does not settle. */
function foldMeetingName(raw: string): string | null {
  let s = trimSpace(raw.normalize('NFKC'));
  for (let i = 0; i < 4; i++) {
    const next = trimSpace(lower(s).normalize('NFKC'));
    if (next === s) return s;
    s = next;
  }
  return null;
}

/** Whether s has letters of more than one of Latin, Cyrillic and Greek, which share look-alikes. */
function mixesScripts(s: string): boolean {
  return LOOKALIKE_SCRIPTS.filter((re) => re.test(s)).length > 1;
}

/**
 * Normalises a meeting name as the server does (NFKC, lowercase, trim: a
 * fullwidth "ＴＥＡＭ" is "team") and checks it.
 */
export function checkMeetingName(raw: string): Checked<MeetingNameProblem> {
  const value = foldMeetingName(raw);
  if (value === null) return { ok: false, problem: 'chars' };
  if (value === '') return { ok: false, problem: 'empty' };
  const chars = Array.from(value);
  for (const [i, c] of chars.entries()) {
    const prev = chars[i - 1];
    const markOnChar = MEETING_MARK.test(c) && prev !== undefined && prev !== '-' && prev !== '_';
    if (FORBIDDEN.test(c) || !(MEETING_CHAR.test(c) || markOnChar)) return { ok: false, problem: 'chars' };
  }
  if (!FIRST.test(value)) return { ok: false, problem: 'start' };
  if (chars.length < 3) return { ok: false, problem: 'short' };
  if (chars.length > 64) return { ok: false, problem: 'long' };
  if (RESERVED.has(value)) return { ok: false, problem: 'reserved' };
  if (!marksOk(chars)) return { ok: false, problem: 'marks' };
  if (mixesScripts(value)) return { ok: false, problem: 'mixed' };
  return { ok: true, value };
}

/** Composes (NFC), trims and checks a display name; every script is welcome. */
export function checkDisplayName(raw: string): Checked<DisplayNameProblem> {
  const value = trimSpace(raw.normalize('NFC'));
  if (value === '') return { ok: false, problem: 'empty' };
  const chars = Array.from(value);
  if (!marksOk(chars)) return { ok: false, problem: 'marks' };
  if (chars.length > 64) return { ok: false, problem: 'long' };
  let seen = false;
  for (const [i, c] of chars.entries()) {
    const joins = JOINERS.has(c) && joinsAt(chars, i);
    if (!joins && !VARIATION_SELECTOR.test(c) && FORBIDDEN.test(c)) return { ok: false, problem: 'control' };
    seen ||= isVisible(c);
  }
  if (!seen) return { ok: false, problem: 'invisible' };
  return { ok: true, value };
}

/** A joiner joins after a visible character or a mark and before a visible character. */
function joinsAt(chars: readonly string[], i: number): boolean {
  const before = chars[i - 1];
  const after = chars[i + 1];
  return before !== undefined && after !== undefined && (isVisible(before) || MARK.test(before)) && isVisible(after);
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

/**
 * A name set between first-strong isolate marks (U+2068 … U+2069), for text
 * that cannot hold a <bdi> element (an <option>, a title): a right-to-left
 * name, or one that starts with digits, then cannot reorder the words
 * around it.
 */
export function isolate(name: string): string {
  return `\u2068${name}\u2069`;
}
