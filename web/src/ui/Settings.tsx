// The device dialog of the meeting. A native modal <dialog>: it traps focus
// and closes with Escape by itself.

import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';
import type { LocalMedia } from '../media/devices';
import { DeviceSelects, MicMeter, type DeviceActions } from './Devices';
import { useChanges } from './hooks';
import { LanguageSwitch } from './LanguageSwitch';

export function Settings(props: { open: boolean; media: LocalMedia; actions: DeviceActions; onClose(): void }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  useChanges(props.media.onChange);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      class="settings"
      aria-labelledby="settings-title"
      onClose={props.onClose}
      onKeyDown={(e) => {
        // The browser closes a modal dialog on Escape itself, but skips that
        // in some cases (no user activation since it opened); do it always.
        if (e.key === 'Escape') {
          e.preventDefault();
          props.onClose();
        }
      }}
    >
      <div class="dialog-head">
        <h2 id="settings-title">{t('settings.title')}</h2>
        <button type="button" class="ghost" onClick={props.onClose}>
          {t('settings.close')}
        </button>
      </div>
      {props.open ? (
        <>
          <DeviceSelects media={props.media} idPrefix="settings" speaker={props.media.prefs.speaker ?? ''} actions={props.actions} />
          <p class="meter-label" aria-hidden="true">
            {t('device.micLevel')}
          </p>
          <MicMeter track={props.media.audio} on={props.media.micOn} />
          <div class="dialog-lang">
            <LanguageSwitch />
          </div>
        </>
      ) : null}
    </dialog>
  );
}
