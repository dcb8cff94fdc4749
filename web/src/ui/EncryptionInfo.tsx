// The encryption indicator in the meeting header: a button that opens a small
// popover saying in plain words what is end-to-end encrypted right now and
// what is only encrypted on the way to the server. It never claims more.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Keyring } from '../crypto/keyring';
import { t } from '../i18n';
import { useChanges } from './hooks';
import { CloseIcon, KeyWaitIcon, ShieldIcon } from './icons';

export function EncryptionInfo(props: { keys: Keyring }): JSX.Element {
  useChanges(props.keys.onChange);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const hasKey = props.keys.hasKey;

  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent): void => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const close = (): void => {
    setOpen(false);
    button.current?.focus();
  };

  const badge = hasKey ? t('crypto.badgeOn') : t('crypto.badgeWaiting');
  return (
    <div
      class="crypto"
      ref={box}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && open) {
          e.stopPropagation();
          close();
        }
      }}
    >
      <button
        ref={button}
        type="button"
        class={`crypto-button${hasKey ? ' on' : ' waiting'}`}
        aria-expanded={open ? 'true' : 'false'}
        aria-controls="crypto-info"
        aria-label={`${t('crypto.button')}. ${badge}`}
        title={t('crypto.button')}
        onClick={() => setOpen(!open)}
      >
        {hasKey ? <ShieldIcon /> : <KeyWaitIcon />}
        <span class="crypto-badge">{badge}</span>
      </button>
      {open ? (
        <div class="crypto-popover" id="crypto-info" role="dialog" aria-labelledby="crypto-title">
          <div class="panel-head">
            <h2 id="crypto-title">{t('crypto.title')}</h2>
            <button type="button" class="ghost icon-button" aria-label={t('panel.close')} title={t('panel.close')} onClick={close}>
              <CloseIcon />
            </button>
          </div>
          <ul>
            <li class={hasKey ? 'e2e' : 'pending'}>{hasKey ? t('crypto.chatOn') : t('crypto.chatWaiting')}</li>
            <li class="e2e">{t('crypto.private')}</li>
            <li class="transport">{t('crypto.media')}</li>
          </ul>
          <p class="hint">{t('crypto.verify')}</p>
        </div>
      ) : null}
    </div>
  );
}
