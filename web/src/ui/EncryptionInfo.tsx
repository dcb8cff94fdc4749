// The encryption indicator in the meeting header: a button that opens a small
// popover saying in plain words what is end-to-end encrypted right now, what
// is not, and which path media takes. It never claims more than is true:
// audio and video count as end-to-end encrypted only while everyone's are,
// with keys exchanged both ways.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { mediaProtection, type MediaProtection } from '../protection';
import type { RoomState } from '../room';
import { useChanges } from './hooks';
import { CloseIcon, KeyWaitIcon, ShieldIcon } from './icons';
import { T } from './Text';

/** The media protection of the meeting as this browser sees it now. */
export function protectionOf(call: Call, state: RoomState<MediaStreamTrack>): MediaProtection {
  const s = call.session;
  return mediaProtection(
    s.e2ee,
    state.others.map((p) => ({ name: p.name, e2ee: p.e2ee === true, exchanged: s.keysExchanged(p), failing: s.peerMedia(p) === 'failing' })),
  );
}

function MediaLines(props: { m: MediaProtection }): JSX.Element {
  const { m } = props;
  return (
    <>
      {m.level === 'off' ? <li class="transport">{t('crypto.mediaSelfOff')}</li> : null}
      {m.level === 'on' ? <li class="e2e">{t('crypto.mediaOn')}</li> : null}
      {m.plain.length && m.level !== 'off' ? <li class="transport"><T k="crypto.mediaPlain" params={{ names: m.plain }} /></li> : null}
      {m.waiting.length ? <li class="pending"><T k="crypto.mediaExchanging" params={{ names: m.waiting }} /></li> : null}
      {m.failing.length ? <li class="transport"><T k="crypto.mediaFailing" params={{ names: m.failing }} /></li> : null}
    </>
  );
}

export function EncryptionInfo(props: { call: Call; state: RoomState<MediaStreamTrack> }): JSX.Element {
  const { call, state } = props;
  useChanges(call.keys.onChange);
  useChanges(call.session.onChange);
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const hasKey = call.keys.hasKey;
  const media = protectionOf(call, state);

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

  const chatBadge = hasKey ? t('crypto.badgeOn') : t('crypto.badgeWaiting');
  const mediaBadge = media.level === 'on' ? t('crypto.mediaBadgeOn') : media.level === 'exchanging' ? t('crypto.mediaBadgeExchanging') : t('crypto.mediaBadgeOff');
  const all = hasKey && media.level === 'on' && media.failing.length === 0;
  const weak = media.level === 'off' || media.level === 'partial';
  const failing = media.failing.length > 0;
  const badge = all
    ? t('crypto.badgeAll')
    : weak
      ? t('crypto.badgePartial')
      : failing
        ? t('crypto.badgeFailing')
        : t('crypto.badgeExchanging');
  const direct = call.session.path === 'direct';
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
        class={`crypto-button${all ? ' on' : weak || failing ? ' weak' : ' waiting'}`}
        aria-expanded={open ? 'true' : 'false'}
        aria-controls="crypto-info"
        aria-label={`${t('crypto.button')}. ${chatBadge}. ${mediaBadge}.`}
        title={t('crypto.button')}
        data-media={media.level}
        data-path={direct ? 'direct' : 'server'}
        onClick={() => setOpen(!open)}
      >
        {all ? <ShieldIcon /> : <KeyWaitIcon />}
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
            <MediaLines m={media} />
            {state.others.length ? <li class="path">{direct ? t('crypto.pathDirect') : t('crypto.pathServer')}</li> : null}
            <li class={hasKey ? 'e2e' : 'pending'}>{hasKey ? t('crypto.chatOn') : t('crypto.chatWaiting')}</li>
            <li class="e2e">{t('crypto.private')}</li>
          </ul>
          <p class="hint">{t('crypto.verify')}</p>
        </div>
      ) : null}
    </div>
  );
}
