// After the meeting: left on purpose, or disconnected with the reason.

import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Ending } from '../call';
import { t } from '../i18n';
import { Page } from './Page';

export function Left(props: { ending: Ending; navigate(path: string): void; rejoin(): void }): JSX.Element {
  const e = props.ending;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <Page class="left-page" navigate={props.navigate}>
      <section class="card left-card" aria-labelledby="left-title">
        <h1 id="left-title" ref={heading} tabIndex={-1}>
          {e.title ? t(e.title) : e.kind === 'left' ? t('left.title') : e.wasJoined ? t('left.disconnected') : t('left.notJoined')}
        </h1>
        {e.message ? <p class="lead">{t(e.message)}</p> : null}
        {e.reason ? <p class="reason">{t('left.reason', { reason: e.reason })}</p> : null}
        <div class="actions">
          <button type="button" class="primary" onClick={props.rejoin}>
            {t('left.rejoin')}
          </button>
          <button type="button" class="secondary" onClick={() => props.navigate('/')}>
            {t('left.back')}
          </button>
        </div>
      </section>
    </Page>
  );
}
