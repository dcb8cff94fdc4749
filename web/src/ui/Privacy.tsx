// "What this server knows about you": in plain words, what the server sees,
// never sees and stores, and what this browser keeps (and how to delete it).

import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { t, type Key } from '../i18n';
import { storage } from '../storage';
import { AppLink, Page } from './Page';

function Section(props: { title: Key; items: Key[]; id: string }): JSX.Element {
  return (
    <section class="privacy-section" aria-labelledby={props.id}>
      <h2 id={props.id}>{t(props.title)}</h2>
      <ul>
        {props.items.map((k) => (
          <li key={k}>{t(k)}</li>
        ))}
      </ul>
    </section>
  );
}

export function Privacy(props: { navigate(path: string): void }): JSX.Element {
  const [forgotten, setForgotten] = useState(false);
  return (
    <Page class="privacy-page" navigate={props.navigate}>
      <article class="card privacy-card" aria-labelledby="privacy-title">
        <h1 id="privacy-title" tabIndex={-1}>
          {t('privacy.title')}
        </h1>
        <p class="lead">{t('privacy.intro')}</p>
        <Section id="privacy-sees" title="privacy.seesTitle" items={['privacy.sees1', 'privacy.sees2', 'privacy.sees3', 'privacy.sees4', 'privacy.sees5', 'privacy.sees6']} />
        <Section id="privacy-never" title="privacy.neverTitle" items={['privacy.never1', 'privacy.never2', 'privacy.never3']} />
        <Section id="privacy-stores" title="privacy.storesTitle" items={['privacy.stores1', 'privacy.stores2', 'privacy.stores3']} />
        <Section id="privacy-browser" title="privacy.browserTitle" items={['privacy.browser1', 'privacy.browser2', 'privacy.browser3', 'privacy.browser4']} />
        <section class="privacy-section" aria-labelledby="privacy-delete">
          <h2 id="privacy-delete">{t('privacy.deleteTitle')}</h2>
          <p>{t('privacy.delete')}</p>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              storage.clear();
              setForgotten(true);
            }}
          >
            {t('privacy.forget')}
          </button>
          <p class="hint" role="status">
            {forgotten ? t('privacy.forgotten') : ''}
          </p>
        </section>
        <AppLink href="/" navigate={props.navigate} class="button primary">
          {t('invalid.back')}
        </AppLink>
      </article>
    </Page>
  );
}
