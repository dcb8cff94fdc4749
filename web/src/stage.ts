// What the server says about the large-meeting side of things: which videos
// it forwards to us (`forwarded`), who the dominant speaker is (`dominant`),
// and everyone's connection figures (`quality`), plus what this browser
// measures of its own connections. A tiny store the layout listens to; kept
// apart from the room model, which it only reads.

import type { ForwardedMessage, ForwardedVideo, ParticipantQuality } from './protocol';
import type { LocalFigures } from './quality';

export interface StageState {
  dominant: string | null;
  /** The videos the server sends us; null until it first says (then everything is sent). */
  forwarded: ForwardedVideo[] | null;
  /** The server's figures by participant id (ourselves included). */
  quality: Record<string, ParticipantQuality>;
  /** Our own connections as this browser measures them. */
  local: LocalFigures | null;
  /** The direct connection of a call for two, as measured here (the server does not carry it). */
  direct: LocalFigures | null;
}

export const initialStage = (): StageState => ({ dominant: null, forwarded: null, quality: {}, local: null, direct: null });

/** Whether the server sends us this video now (before its first `forwarded`: yes, all). */
export function isForwarded(s: StageState, participant: string, source: 'camera' | 'screen'): boolean {
  return s.forwarded === null || s.forwarded.some((v) => v.participant === participant && v.source === source);
}

export class StageStore {
  private current: StageState = initialStage();
  private listeners = new Set<() => void>();

  get state(): StageState {
    return this.current;
  }

  private set(patch: Partial<StageState>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  dominant(id: string): void {
    if (this.current.dominant !== id) this.set({ dominant: id });
  }

  forwarded(msg: ForwardedMessage): void {
    this.set({ forwarded: msg.videos });
  }

  quality(list: ParticipantQuality[]): void {
    const q: Record<string, ParticipantQuality> = {};
    for (const p of list) q[p.id] = p;
    this.set({ quality: q });
  }

  measured(local: LocalFigures | null, direct: LocalFigures | null): void {
    this.set({ local, direct });
  }

  /** Someone left: nothing of theirs is kept. */
  left(id: string): void {
    const { [id]: _gone, ...quality } = this.current.quality;
    this.set({ quality, dominant: this.current.dominant === id ? null : this.current.dominant });
  }

  /** A fresh start (a new connection): the server will say it all again. */
  reset(): void {
    this.current = initialStage();
    for (const l of this.listeners) l();
  }
}
