// The frame of the non-meeting pages: a header with the logo and the language
// switch, and the page content.

import type { ComponentChildren, JSX } from 'preact';
import { t } from '../i18n';
import { Logo } from './icons';
import { LanguageSwitch } from './LanguageSwitch';

export function HomeLink(props: { navigate(path: string): void }): JSX.Element {
  return (
    <a
      class="brand"
      href="/"
      aria-label={t('app.home')}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        props.navigate('/');
      }}
    >
      <Logo size={32} />
      <span class="brand-name">{t('app.name')}</span>
    </a>
  );
}

/** A link to a page of the app that navigates without a reload. */
export function AppLink(props: { href: string; navigate(path: string): void; class?: string; children: ComponentChildren }): JSX.Element {
  return (
    <a
      class={props.class}
      href={props.href}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        props.navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

export function Page(props: { class: string; navigate(path: string): void; children: ComponentChildren; footer?: ComponentChildren }): JSX.Element {
  return (
    <div class={`page ${props.class}`}>
      <header class="page-header">
        <HomeLink navigate={props.navigate} />
        <LanguageSwitch />
      </header>
      <main class="page-main">{props.children}</main>
      {props.footer ? <footer class="page-footer">{props.footer}</footer> : null}
    </div>
  );
}
