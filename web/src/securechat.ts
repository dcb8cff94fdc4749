// The chat's end-to-end encryption: what we send is sealed with the meeting's
// chat key (or, privately, the key we share with one person); what comes in
// is opened before the chat shows it. Group messages that arrive before we
// hold the key wait until it comes.

import { shownTime, type ChatStore, type NewMessage } from './chat';
import { aad, decryptChat, encryptChat } from './crypto/e2e';
import type { Key, Params } from './i18n';
import { LIMITS, type ChatInMessage, type ClientMessage, type ParticipantInfo } from './protocol';
import type { RoomState } from './room';

export type SendResult = 'sent' | 'empty' | 'nokey' | 'toolong' | 'gone';

export interface SecureChatDeps {
  chat: ChatStore;
  state(): RoomState<MediaStreamTrack>;
  /** Whether a message can go out now (in the meeting, connected). */
  canSend(): boolean;
  send(msg: ClientMessage): void;
  pairwise(p: ParticipantInfo): Promise<CryptoKey | null>;
  chatKey(): Promise<CryptoKey> | null;
  notify(n: { key: Key; params?: Params }): void;
}

export class SecureChat {
  /** Group messages that arrived before we had the meeting key, by chat id. */
  private pending = new Map<number, { from: string; data: string }>();

  constructor(private readonly deps: SecureChatDeps) {}

  async receive(msg: ChatInMessage): Promise<void> {
    const chat = this.deps.chat;
    const s = this.deps.state();
    if (msg.from === s.selfId) return; // our own, if the server ever echoes it
    if (msg.to !== undefined && msg.to !== s.selfId) return; // not for us
    const sender = s.others.find((p) => p.id === msg.from);
    const now = Date.now();
    const base: NewMessage = { from: msg.from, fromName: sender?.name ?? '', self: false, ts: now, text: null, problem: 'failed' };
    let id: number;
    if (msg.to !== undefined) {
      const pk = sender ? await this.deps.pairwise(sender) : null;
      const plain = pk ? await decryptChat(pk, aad.pm(s.room, msg.from, msg.to), msg.data) : null;
      const m: NewMessage = { ...base, to: msg.to, toName: s.self.name };
      id = chat.add(plain ? { ...m, text: plain.text, problem: undefined, ts: shownTime(plain.ts, now) } : m);
    } else {
      const ck = this.deps.chatKey();
      if (!ck) {
        id = chat.add({ ...base, problem: 'nokey' });
        this.pending.set(id, { from: msg.from, data: msg.data });
      } else {
        const plain = await decryptChat(await ck, aad.chat(s.room, msg.from), msg.data);
        id = chat.add(plain ? { ...base, text: plain.text, problem: undefined, ts: shownTime(plain.ts, now) } : base);
      }
    }
    if (!chat.isOpen && id) {
      const name = base.fromName || '?';
      this.deps.notify({ key: msg.to !== undefined ? 'chat.newPrivate' : 'chat.newMessage', params: { name } });
    }
  }

  /** Once the key is here, opens the group messages that came before it. */
  async retryPending(): Promise<void> {
    const ck = this.deps.chatKey();
    if (!ck) return;
    const key = await ck;
    const chat = this.deps.chat;
    const room = this.deps.state().room;
    for (const [id, p] of this.pending) {
      const plain = await decryptChat(key, aad.chat(room, p.from), p.data);
      const m = chat.messages.find((x) => x.id === id);
      if (plain) chat.update(id, { text: plain.text, ts: shownTime(plain.ts, m?.ts ?? Date.now()) });
      else chat.update(id, { problem: 'failed' });
    }
    this.pending.clear();
  }

  /** Encrypts and sends a message to everyone, or to one participant. */
  async send(text: string, to: string | null): Promise<SendResult> {
    if (text.trim() === '') return 'empty';
    if (!this.deps.canSend()) return 'gone';
    const s = this.deps.state();
    const self = s.selfId ?? '';
    const ts = Date.now();
    let data: string;
    let toName: string | undefined;
    if (to !== null) {
      const peer = s.others.find((p) => p.id === to);
      if (!peer) return 'gone';
      toName = peer.name;
      const pk = await this.deps.pairwise(peer);
      if (!pk) return 'nokey';
      data = await encryptChat(pk, aad.pm(s.room, self, to), { text, ts });
    } else {
      const ck = this.deps.chatKey();
      if (!ck) return 'nokey';
      data = await encryptChat(await ck, aad.chat(s.room, self), { text, ts });
    }
    if (data.length > LIMITS.maxChatData) return 'toolong';
    this.deps.send(to !== null ? { type: 'chat', data, to } : { type: 'chat', data });
    this.deps.chat.add(
      to !== null && toName !== undefined
        ? { from: self, fromName: s.self.name, self: true, to, toName, text, ts }
        : { from: self, fromName: s.self.name, self: true, text, ts },
    );
    return 'sent';
  }
}
