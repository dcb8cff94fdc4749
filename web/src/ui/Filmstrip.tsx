// The strip beside (or, on a portrait screen, below) the large picture of
// speaker view: everyone else, scrollable. Tiles scrolled out of it are not
// visible, so their videos are paused by the server (ui/visible.ts).

import type { ComponentChildren, JSX } from 'preact';
import { t } from '../i18n';

export function Filmstrip(props: { children: ComponentChildren; count: number }): JSX.Element | null {
  if (props.count === 0) return null;
  return (
    <div class="strip filmstrip" role="group" aria-label={t('layout.filmstrip')}>
      {props.children}
    </div>
  );
}
