// Our own connection trouble, over the meeting: "Reconnecting…" while the
// call mends the socket or the media by itself (the meeting stays as it is),
// the server's restart notice, and, once reconnecting gave up, a clear
// message with "Rejoin". The status lives in a polite live region that is
// always there, so screen readers announce each change.

import type { JSX } from 'preact';
import type { Call } from '../call';
import { t } from '../i18n';
import { useChanges } from './hooks';

export function ReconnectBanner(props: { call: Call }): JSX.Element {
  const { call } = props;
  useChanges(call.onPhase);
  const failed = call.phase === 'joined' && call.reconnect.state === 'failed';
  const busy = call.reconnecting;
  const draining = call.phase === 'joined' && call.draining !== null;
  return (
    <>
      <div class="reconnect-status" role="status" aria-live="polite">
        {busy ? (
          <p class="reconnect-banner">
            <span class="reconnect-spinner" aria-hidden="true" />
            <span>{t('reconnect.banner')}</span>
            {call.offline ? <span class="reconnect-detail">{t('reconnect.offline')}</span> : null}
            {draining ? <span class="reconnect-detail">{t('reconnect.draining')}</span> : null}
          </p>
        ) : draining && !failed ? (
          <p class="reconnect-banner draining">{t('reconnect.draining')}</p>
        ) : null}
      </div>
      {failed ? (
        <div class="reconnect-banner failed" role="alert" aria-labelledby="reconnect-failed-title">
          <p id="reconnect-failed-title" class="reconnect-title">
            {t('reconnect.failedTitle')}
          </p>
          <p>{t('reconnect.failedText')}</p>
          <div class="reconnect-actions">
            <button type="button" class="primary" onClick={() => call.reconnectNow()}>
              {t('reconnect.rejoin')}
            </button>
            <button type="button" class="secondary" onClick={() => call.leave()}>
              {t('reconnect.leave')}
            </button>
          </div>
        </div>
      ) : null}
    </>
  );
}
