// Paging through the tiles of a large meeting: "Previous page", "Page 1 of
// 3", "Next page". Only shown when there is more than one page. The end
// buttons are aria-disabled rather than disabled, so the focus stays on them.

import type { JSX } from 'preact';
import { t } from '../i18n';
import { ChevronLeftIcon, ChevronRightIcon } from './icons';

export function Pager(props: { page: number; count: number; onPage(page: number): void }): JSX.Element | null {
  const { page, count } = props;
  if (count <= 1) return null;
  const prev = t('layout.previous');
  const next = t('layout.next');
  return (
    <nav class="pager" aria-label={t('layout.pages')}>
      <button type="button" class="pager-button" aria-label={prev} title={prev} aria-disabled={page <= 0 ? 'true' : undefined} onClick={() => page > 0 && props.onPage(page - 1)}>
        <ChevronLeftIcon />
      </button>
      <span class="pager-status" aria-live="polite">
        {t('layout.page', { page: page + 1, count })}
      </span>
      <button type="button" class="pager-button" aria-label={next} title={next} aria-disabled={page >= count - 1 ? 'true' : undefined} onClick={() => page < count - 1 && props.onPage(page + 1)}>
        <ChevronRightIcon />
      </button>
    </nav>
  );
}
