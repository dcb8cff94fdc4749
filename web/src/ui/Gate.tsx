// The screens between "Join meeting" and the meeting: the password prompt
// and the lobby's waiting screen.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { Page } from './Page';
import { T } from './Text';

/** Re-renders every quarter second while `until` (performance.now()) is ahead. */
function useCountdown(until: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    setNow(performance.now());
    if (until <= performance.now()) return;
    const id = window.setInterval(() => {
      const n = performance.now();
      setNow(n);
      if (n >= until) window.clearInterval(id);
    }, 250);
    return () => window.clearInterval(id);
  }, [until]);
  return Math.max(0, Math.ceil((until - now) / 1000));
}

export function PasswordPrompt(props: { call: Call; room: string; navigate(path: string): void }): JSX.Element {
  const { call } = props;
  const gate = call.gate;
  const [password, setPassword] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const seconds = useCountdown(gate.problem === 'tooMany' ? gate.retryAt : 0);
  const blocked = gate.problem === 'tooMany' && seconds > 0;

  useEffect(() => {
    if (!gate.checking) {
      input.current?.focus();
      input.current?.select();
    }
  }, [gate]);

  const submit = (e: Event): void => {
    e.preventDefault();
    if (blocked || gate.checking || password === '') {
      input.current?.focus();
      return;
    }
    call.submitPassword(password);
  };

  let message = '';
  if (gate.problem === 'wrong') message = t('password.wrong');
  else if (blocked) message = t('password.tooMany', { seconds });
  else if (gate.problem === 'tooMany') message = t('password.again');

  return (
    <Page class="gate-page" navigate={props.navigate}>
      <section class="card gate-card" aria-labelledby="password-title">
        <h1 id="password-title" tabIndex={-1}>
          {t('password.title')}
        </h1>
        <p class="lead">
          <T k="password.text" params={{ name: props.room }} />
        </p>
        <form onSubmit={submit} noValidate>
          <div class="field">
            <label for="meeting-password-entry">{t('password.label')}</label>
            <input
              ref={input}
              id="meeting-password-entry"
              type="password"
              value={password}
              autoComplete="off"
              maxLength={128}
              aria-invalid={gate.problem === 'wrong' ? 'true' : 'false'}
              aria-describedby="password-problem"
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
            {/* role=timer: the countdown is not read out every second. */}
            <p id="password-problem" class="field-error" role={blocked ? 'timer' : 'alert'}>
              {message}
            </p>
          </div>
          <button type="submit" class="primary big" disabled={blocked || gate.checking}>
            {gate.checking ? t('password.checking') : t('prejoin.join')}
          </button>
        </form>
        <button type="button" class="secondary" onClick={() => call.leave()}>
          {t('gate.leave')}
        </button>
      </section>
    </Page>
  );
}

export function LobbyWait(props: { call: Call; room: string; navigate(path: string): void }): JSX.Element {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  // Why we wait, when it is not just the lobby being on.
  const why = props.call.waitReason;
  const text = why === 'password' ? 'lobby.textPassword' : why === 'removed' ? 'lobby.textRemoved' : 'lobby.text';
  return (
    <Page class="gate-page" navigate={props.navigate}>
      <section class="card gate-card" aria-labelledby="lobby-title" aria-busy="true">
        <div class="waiting-dots" aria-hidden="true">
          <span />
          <span />
          <span />
        </div>
        <h1 id="lobby-title" ref={heading} tabIndex={-1}>
          {t('lobby.title')}
        </h1>
        <p class="lead">
          <T k={text} params={{ name: props.room }} />
        </p>
        <button type="button" class="secondary" onClick={() => props.call.leave()}>
          {t('gate.leave')}
        </button>
      </section>
    </Page>
  );
}
