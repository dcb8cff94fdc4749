// The device dialog of the meeting. A native modal <dialog>: it traps focus
// and closes with Escape by itself.

import type { JSX } from 'preact';
import { t } from '../i18n';
import type { LocalMedia } from '../media/devices';
import { LAST_N_CHOICES, type LastN, type ViewReporter } from '../media/view';
import { DeviceSelects, MicMeter, type DeviceActions } from './Devices';
import { useChanges, useModalDialog } from './hooks';
import { LanguageSwitch } from './LanguageSwitch';

/** "Maximum videos": how many camera videos the server sends at most (`lastN`). */
function MaxVideos(props: { view: ViewReporter }): JSX.Element {
  useChanges(props.view.onChange);
  const value = String(props.view.lastN);
  return (
    <div class="field max-videos">
      <label for="settings-max-videos">{t('settings.maxVideos')}</label>
      <select
        id="settings-max-videos"
        aria-describedby="settings-max-videos-hint"
        value={value}
        onChange={(e) => {
          const v = e.currentTarget.value;
          props.view.setLastN(v === 'auto' ? 'auto' : (Number(v) as LastN));
        }}
      >
        {LAST_N_CHOICES.map((n) => (
          <option key={String(n)} value={String(n)}>
            {n === 'auto' ? t('settings.maxVideosAuto') : String(n)}
          </option>
        ))}
      </select>
      <p class="hint" id="settings-max-videos-hint">
        {t('settings.maxVideosHint')}
      </p>
    </div>
  );
}

export function Settings(props: { open: boolean; media: LocalMedia; actions: DeviceActions; onClose(): void; view?: ViewReporter }): JSX.Element {
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
          {props.view ? <MaxVideos view={props.view} /> : null}
          <div class="dialog-lang">
            <LanguageSwitch />
          </div>
        </>
      ) : null}
    </dialog>
  );
}
