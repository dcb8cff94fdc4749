// The chat side panel: messages (in memory only), a recipient choice for
// private messages and the message field. Text is rendered as text; links
// become <a> elements made as DOM nodes, never through HTML.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import type { ChatMessage } from '../chat';
import { getLang, t, type Key } from '../i18n';
import { linkify } from '../linkify';
import type { RoomState } from '../room';
import { isolate } from '../names';
import { useChanges } from './hooks';
import { CloseIcon, SendIcon } from './icons';
import { Name, T } from './Text';

function MessageText(props: { text: string }): JSX.Element {
  return (
    <p class="msg-text">
      {linkify(props.text).map((s, i) =>
        s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}

function timeOf(ts: number): string {
  return new Intl.DateTimeFormat(getLang(), { hour: '2-digit', minute: '2-digit' }).format(ts);
}

function Message(props: { m: ChatMessage }): JSX.Element {
  const { m } = props;
  const from = m.self ? t('chat.you') : m.fromName ? <Name name={m.fromName} /> : t('chat.someone');
  return (
    <li class={`msg${m.self ? ' own' : ''}${m.to ? ' private' : ''}`} data-from={m.from}>
      <div class="msg-head">
        <span class="msg-from">{from}</span>
        <time dateTime={new Date(m.ts).toISOString()}>{timeOf(m.ts)}</time>
      </div>
      {m.to ? <p class="msg-private">{m.self ? <T k="chat.privateTo" params={{ name: m.toName ?? '' }} /> : t('chat.privateFromYou')}</p> : null}
      {m.text !== null ? (
        <MessageText text={m.text} />
      ) : (
        <p class="msg-text undecryptable">{m.problem === 'nokey' ? t('chat.waitingForKey') : t('chat.couldNotDecrypt')}</p>
      )}
    </li>
  );
}

export function ChatPanel(props: { call: Call; state: RoomState<MediaStreamTrack>; onClose(): void }): JSX.Element {
  const { call, state } = props;
  useChanges(call.chat.subscribe);
  useChanges(call.keys.onChange);
  const [text, setText] = useState('');
  // The chosen recipient ('' for everyone) and their name, kept if they leave.
  const [to, setTo] = useState<{ id: string; name: string }>({ id: '', name: '' });
  const [problem, setProblem] = useState<Key | null>(null);
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLDivElement>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  const messages = call.chat.messages;

  useEffect(() => field.current?.focus(), []);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length]);

  const recipient = to.id ? state.others.find((p) => p.id === to.id) : undefined;
  const recipientGone = to.id !== '' && !recipient;
  const needKey = to.id === '' && !call.keys.hasKey;
  const canSend = !recipientGone && !needKey && !sending;

  const send = async (): Promise<void> => {
    if (!canSend || text.trim() === '') return;
    setSending(true);
    const result = await call.sendChat(text, to.id || null);
    setSending(false);
    if (result === 'sent') {
      setText('');
      setProblem(null);
    } else if (result === 'toolong') setProblem('chat.tooLong');
    else if (result === 'gone' && call.reconnect.state !== 'up') setProblem('chat.notConnected');
    field.current?.focus();
  };

  let hint: JSX.Element | string = '';
  if (recipientGone) hint = <T k="chat.recipientLeft" params={{ name: to.name }} />;
  else if (needKey) hint = t('chat.noKey');
  else if (problem) hint = t(problem);

  return (
    <aside class="panel chat-panel" id="chat-panel" aria-labelledby="chat-title">
      <div class="panel-head">
        <h2 id="chat-title">{t('chat.title')}</h2>
        <button type="button" class="ghost icon-button" aria-label={t('chat.close')} title={t('chat.close')} onClick={props.onClose}>
          <CloseIcon />
        </button>
      </div>
      <p class="panel-note">{t('chat.ephemeral')}</p>
      <div class="messages" ref={list} role="log" aria-labelledby="chat-title" tabIndex={0}>
        {messages.length === 0 ? <p class="messages-empty">{t('chat.empty')}</p> : null}
        <ol>
          {messages.map((m) => (
            <Message key={m.id} m={m} />
          ))}
        </ol>
      </div>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault();
          void send();
        }}
      >
        <div class="composer-to">
          <label for="chat-to">{t('chat.to')}</label>
          <select
            id="chat-to"
            value={to.id}
            onChange={(e) => {
              const id = e.currentTarget.value;
              setTo({ id, name: state.others.find((p) => p.id === id)?.name ?? '' });
              setProblem(null);
            }}
          >
            <option value="">{t('chat.everyone')}</option>
            {state.others.map((p) => (
              // A name alone needs no isolation from other text, only its
              // own direction (an <option> cannot hold a <bdi>).
              <option key={p.id} value={p.id} dir="auto">
                {p.name}
              </option>
            ))}
            {recipientGone ? <option value={to.id}>{t('chat.left', { name: isolate(to.name) })}</option> : null}
          </select>
        </div>
        <div class="composer-row">
          <label for="chat-message" class="visually-hidden">
            {t('chat.message')}
          </label>
          <textarea
            ref={field}
            id="chat-message"
            rows={2}
            value={text}
            maxLength={4000}
            placeholder={t('chat.message')}
            aria-describedby="chat-hint chat-problem"
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                void send();
              }
            }}
          />
          <button type="submit" class="primary icon-button send" aria-label={t('chat.send')} title={t('chat.send')} disabled={!canSend}>
            <SendIcon />
          </button>
        </div>
        <p id="chat-problem" class="composer-problem" aria-live="polite">
          {hint}
        </p>
        <p id="chat-hint" class="visually-hidden">
          {t('chat.hint')}
        </p>
      </form>
    </aside>
  );
}
