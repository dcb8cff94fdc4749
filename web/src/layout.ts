// The two layouts of the meeting, as pure functions: tile view pages through
// a large meeting (our own tile stays on every page), speaker view shows a
// shared screen or the dominant speaker large and everyone else in a strip.
// The UI (ui/Layout.tsx) measures; this decides.

export type LayoutMode = 'tiles' | 'speaker';

/** Remote tiles per page in tile view: nine, fewer on a small screen. */
export const PAGE_SIZE = 9;
export const PHONE_PAGE_SIZE = 5;

/** How many remote tiles one page holds in a main area of w x h CSS pixels. */
export function pageSize(w: number, h: number): number {
  return Math.min(w, h) > 0 && (w < 600 || h < 420) ? PHONE_PAGE_SIZE : PAGE_SIZE;
}

export function pageCount(items: number, size: number): number {
  return Math.max(1, Math.ceil(items / Math.max(1, size)));
}

/** The page index kept in range when people leave (0-based). */
export function clampPage(page: number, items: number, size: number): number {
  return Math.min(Math.max(0, page), pageCount(items, size) - 1);
}

/** The items on one page (0-based). */
export function pageItems<T>(items: readonly T[], page: number, size: number): T[] {
  const p = clampPage(page, items.length, size);
  return items.slice(p * size, (p + 1) * size);
}

/** A camera tile as the speaker choice sees it. */
export interface SpeakerCandidate {
  key: string;
  participant: string;
  self: boolean;
}

/**
 * The camera to show large in speaker view: the dominant speaker, else the
 * one shown before (no jumping around when the server has not said), else the
 * first of the others; ourselves only when alone.
 */
export function pickSpeaker(cameras: readonly SpeakerCandidate[], dominant: string | null, previous: string | null): string | null {
  const others = cameras.filter((c) => !c.self);
  const byId = (id: string | null): SpeakerCandidate | undefined => (id === null ? undefined : others.find((c) => c.participant === id));
  const pick = byId(dominant) ?? byId(previous) ?? others[0] ?? cameras[0];
  return pick ? pick.participant : null;
}

/** The layout mode, and whether speaker view came by itself (a screen share). */
export interface ModeState {
  mode: LayoutMode;
  auto: boolean;
}

export const initialMode: ModeState = { mode: 'tiles', auto: false };

/**
 * A screen share switches tile view to speaker view; when the last share
 * ends, a switch that came by itself goes back. Choosing a view by hand is
 * kept.
 */
export function nextMode(s: ModeState, e: { type: 'toggle' } | { type: 'screens'; before: number; now: number }): ModeState {
  if (e.type === 'toggle') return { mode: s.mode === 'tiles' ? 'speaker' : 'tiles', auto: false };
  if (e.before === 0 && e.now > 0 && s.mode === 'tiles') return { mode: 'speaker', auto: true };
  if (e.now === 0 && e.before > 0 && s.auto) return { mode: 'tiles', auto: false };
  return s;
}
