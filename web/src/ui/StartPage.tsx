// The start page: pick (or take the suggested) meeting name and start.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { newMeetingKey } from '../crypto/e2e';
import { toBase64url } from '../crypto/encoding';
import { fragment } from '../fragment';
import { t } from '../i18n';
import { checkMeetingName } from '../names';
import { Logo, RefreshIcon } from './icons';
import { AppLink, Page } from './Page';
import { T } from './Text';

async function fetchNewName(): Promise<string> {
  const res = await fetch('/api/new-name', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`new-name: ${res.status}`);
  const body: unknown = await res.json();
  const name = typeof body === 'object' && body !== null ? (body as { name?: unknown }).name : undefined;
  if (typeof name !== 'string') throw new Error('new-name: no name');
  return name;
}

export function StartPage(props: { navigate(path: string): void }): JSX.Element {
  const [name, setName] = useState('');
  const [touched, setTouched] = useState(false);
  const [suggestFailed, setSuggestFailed] = useState(false);
  const [loading, setLoading] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // The user's own typing wins over a suggestion that arrives late.
  const typed = useRef(false);

  const suggest = async (focus: boolean): Promise<void> => {
    setLoading(true);
    try {
      const n = await fetchNewName();
      setSuggestFailed(false);
      if (!typed.current || focus) {
        setName(n);
        setTouched(false);
        typed.current = false;
      }
    } catch {
      setSuggestFailed(true);
    } finally {
      setLoading(false);
    }
    if (focus) input.current?.focus();
  };

  useEffect(() => {
    void suggest(false);
  }, []);

  const checked = checkMeetingName(name);
  const error = touched && !checked.ok ? <T k={`meetingName.${checked.problem}`} params={{ name: name.trim() }} /> : null;

  const submit = (e: Event): void => {
    e.preventDefault();
    setTouched(true);
    if (!checked.ok) {
      input.current?.focus();
      return;
    }
    // The browser that starts a meeting makes its key; it travels only in
    // the link's #fragment, which is never sent to the server.
    props.navigate('/' + checked.value + fragment(toBase64url(newMeetingKey()), null));
  };

  return (
    <Page
      class="start-page"
      navigate={props.navigate}
      footer={
        <AppLink href="/privacy" navigate={props.navigate}>
          {t('start.privacy')}
        </AppLink>
      }
    >
      <section class="card start-card" aria-labelledby="start-title">
        <div class="start-mark">
          <Logo size={48} />
        </div>
        <h1 id="start-title" tabIndex={-1}>
          {t('start.title')}
        </h1>
        <p class="lead">{t('start.intro')}</p>
        <form class="start-form" onSubmit={submit} noValidate>
          <label for="meeting-name">{t('start.meetingName')}</label>
          <div class="input-row">
            <input
              ref={input}
              id="meeting-name"
              name="meeting"
              type="text"
              value={name}
              autoComplete="off"
              autoCapitalize="none"
              spellcheck={false}
              aria-invalid={error ? 'true' : 'false'}
              aria-describedby="meeting-name-hint meeting-name-error"
              onInput={(e) => {
                typed.current = true;
                setName(e.currentTarget.value);
                // Complain while typing only once something was typed wrong;
                // an empty box is pointed out on submit.
                setTouched(e.currentTarget.value.trim() !== '');
              }}
            />
            <button
              type="button"
              class="icon-button ghost"
              aria-label={t('start.newName')}
              title={t('start.newName')}
              disabled={loading}
              onClick={() => void suggest(true)}
            >
              <RefreshIcon />
            </button>
          </div>
          <p id="meeting-name-error" class="field-error" aria-live="polite">
            {error}
          </p>
          <p id="meeting-name-hint" class="hint">
            {suggestFailed ? t('start.newNameFailed') : t('start.meetingNameHint')}
          </p>
          <button type="submit" class="primary big">
            {t('start.submit')}
          </button>
        </form>
        <ul class="points">
          <li>{t('start.point1')}</li>
          <li>{t('start.point2')}</li>
          <li>{t('start.point3')}</li>
        </ul>
      </section>
    </Page>
  );
}
