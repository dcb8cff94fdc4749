// The chat messages of this meeting, in memory only: nothing is stored, so
// they are gone when the tab leaves the meeting or reloads. A message that
// could not be decrypted keeps its place in the list with text null.

export interface ChatMessage {
  id: number;
  /** Sender's participant id. */
  from: string;
  fromName: string;
  /** Sent by us. */
  self: boolean;
  /** Private message: the recipient's id (and name); absent for everyone. */
  to?: string;
  toName?: string;
  /** The decrypted text; null when it could not be decrypted. */
  text: string | null;
  /** Why text is null: no meeting key (yet), or decryption failed. */
  problem?: 'nokey' | 'failed';
  /** Milliseconds since the epoch, for the time shown. */
  ts: number;
}

export type NewMessage = Omit<ChatMessage, 'id'>;

/** The time to show: the sender's, unless it is more than a day off our clock. */
export function shownTime(senderTs: number, now: number): number {
  return Number.isFinite(senderTs) && Math.abs(senderTs - now) < 24 * 3600 * 1000 ? senderTs : now;
}

export class ChatStore {
  messages: ChatMessage[] = [];
  /** Messages from others that arrived while the panel was closed. */
  unread = 0;
  private open = false;
  private next = 1;
  private listeners = new Set<() => void>();

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  private changed(): void {
    for (const l of this.listeners) l();
  }

  add(m: NewMessage): number {
    const id = this.next++;
    this.messages = [...this.messages, { ...m, id }];
    if (!m.self && !this.open) this.unread++;
    this.changed();
    return id;
  }

  update(id: number, patch: Partial<NewMessage>): void {
    this.messages = this.messages.map((m) => {
      if (m.id !== id) return m;
      const next: ChatMessage = { ...m, ...patch };
      if (patch.text !== undefined && patch.text !== null) delete next.problem;
      return next;
    });
    this.changed();
  }

  setOpen(open: boolean): void {
    this.open = open;
    if (open) this.unread = 0;
    this.changed();
  }

  get isOpen(): boolean {
    return this.open;
  }
}
