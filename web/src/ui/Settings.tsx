// The device dialog of the meeting. A native modal <dialog>: it traps focus
// and closes with Escape by itself.

import type { JSX } from 'preact';
import { t } from '../i18n';
import type { LocalMedia } from '../media/devices';
import { DeviceSelects, MicMeter, type DeviceActions } from './Devices';
import { useChanges, useModalDialog } from './hooks';
import { LanguageSwitch } from './LanguageSwitch';

export function Settings(props: { open: boolean; media: LocalMedia; actions: DeviceActions; onClose(): void }): JSX.Element {
  const { ref, onKeyDown } = useModalDialog(props.open, props.onClose);
  useChanges(props.media.onChange);
  return (
    <dialog
      ref={ref}
      class="settings"
      aria-labelledby="settings-title"
      onClose={props.onClose}
      onKeyDown={onKeyDown}
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
