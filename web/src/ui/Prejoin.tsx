// Before joining: camera preview, microphone level, devices and your name.

import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { LocalMedia } from '../media/devices';
import { frameSupport } from '../media/framecrypto';
import { checkDisplayName, colourIndex, initials } from '../names';
import { storage } from '../storage';
import { DeviceSelects, MicMeter } from './Devices';
import { useChanges } from './hooks';
import { CamIcon, CamOffIcon, MicIcon, MicOffIcon } from './icons';
import { Page } from './Page';
import { T } from './Text';
import { Video } from './Video';

export interface PrejoinProps {
  room: string;
  navigate(path: string): void;
  join(name: string, media: LocalMedia): void;
  /** Whether the devices start on (remembered from a previous join in this tab). */
  want: { audio: boolean; video: boolean };
}

export function Prejoin(props: PrejoinProps): JSX.Element {
  const media = useMemo(() => new LocalMedia(storage.devices()), []);
  const [opening, setOpening] = useState(true);
  const [name, setName] = useState(() => storage.name());
  const [nameTouched, setNameTouched] = useState(false);
  const joined = useRef(false);
  const [joining, setJoining] = useState(false);
  const opened = useRef<Promise<void>>(Promise.resolve());
  const nameInput = useRef<HTMLInputElement>(null);
  useChanges(media.onChange);

  useEffect(() => {
    opened.current = media.open(props.want).finally(() => setOpening(false));
    // Leaving this screen without joining releases camera and microphone.
    return () => {
      if (!joined.current) media.stop();
    };
  }, [media]);

  const checked = checkDisplayName(name);
  const nameError = nameTouched && !checked.ok ? t(`displayName.${checked.problem}` as const) : '';

  const submit = (e: Event): void => {
    e.preventDefault();
    if (joined.current) return;
    setNameTouched(true);
    if (!checked.ok) {
      nameInput.current?.focus();
      return;
    }
    storage.setName(checked.value);
    joined.current = true;
    setJoining(true);
    // A person may press Join before the permission prompt is answered.
    void opened.current.then(() => props.join(checked.value, media));
  };

  const toggleCamera = (): void => {
    if (media.cameraOn) media.stopCamera();
    else void media.startCamera();
  };

  return (
    <Page class="prejoin-page" navigate={props.navigate}>
      <div class="prejoin">
        <section class="preview-column" aria-label={t('prejoin.preview')}>
          <div class="preview">
            {media.video && media.cameraOn ? (
              <Video track={media.video} mirror />
            ) : (
              <div class="preview-off">
                {name.trim() ? (
                  <div class={`avatar big avatar-c${colourIndex(name.trim())}`} aria-hidden="true">
                    {initials(name)}
                  </div>
                ) : null}
                <p>{opening ? t('prejoin.starting') : t('prejoin.cameraOff')}</p>
              </div>
            )}
            <div class="preview-controls">
              <button
                type="button"
                class={`round-button${media.micOn ? '' : ' off'}`}
                aria-label={media.micOn ? t('device.turnOffMic') : t('device.turnOnMic')}
                title={media.micOn ? t('device.turnOffMic') : t('device.turnOnMic')}
                disabled={!media.audio}
                onClick={() => media.setMicOn(!media.micOn)}
              >
                {media.micOn ? <MicIcon /> : <MicOffIcon />}
              </button>
              <button
                type="button"
                class={`round-button${media.cameraOn ? '' : ' off'}`}
                aria-label={media.cameraOn ? t('device.turnOffCam') : t('device.turnOnCam')}
                title={media.cameraOn ? t('device.turnOffCam') : t('device.turnOnCam')}
                disabled={opening || media.problem === 'device.denied' || media.problem === 'device.insecure'}
                onClick={toggleCamera}
              >
                {media.cameraOn ? <CamIcon /> : <CamOffIcon />}
              </button>
            </div>
          </div>
          <MicMeter track={media.audio} on={media.micOn} />
          {media.problem ? (
            <p class="problem" role="alert">
              {t(media.problem, { error: media.problemDetail })}
            </p>
          ) : null}
        </section>

        <section class="card join-card" aria-labelledby="prejoin-title">
          <h1 id="prejoin-title" tabIndex={-1}>
            {t('prejoin.title')}
          </h1>
          <p class="meeting-label">
            <T k="prejoin.meeting" params={{ name: props.room }} />
          </p>
          <form onSubmit={submit} noValidate>
            <div class="field">
              <label for="display-name">{t('prejoin.yourName')}</label>
              <input
                ref={nameInput}
                id="display-name"
                type="text"
                value={name}
                maxLength={200}
                autoComplete="name"
                aria-invalid={nameError ? 'true' : 'false'}
                aria-describedby="display-name-error display-name-hint"
                onInput={(e) => {
                  setName(e.currentTarget.value);
                  setNameTouched(e.currentTarget.value !== '');
                }}
              />
              <p id="display-name-error" class="field-error" aria-live="polite">
                {nameError}
              </p>
              <p id="display-name-hint" class="hint">
                {t('prejoin.yourNameHint')}
              </p>
            </div>
            {frameSupport() === null ? <p class="problem no-e2ee">{t('e2ee.noSupport')}</p> : null}
            <button type="submit" class="primary big" aria-disabled={joining ? 'true' : undefined}>
              {joining ? t('prejoin.joining') : t('prejoin.join')}
            </button>
          </form>
        </section>

        <section class="devices-panel" aria-labelledby="devices-title">
          <h2 id="devices-title" class="panel-title">
            {t('prejoin.devices')}
          </h2>
          <DeviceSelects
            media={media}
            idPrefix="prejoin"
            speaker={media.prefs.speaker ?? ''}
            actions={{
              camera: (id) => void media.switchCamera(id),
              microphone: (id) => void media.switchMicrophone(id),
              speaker: (id) => media.setSpeaker(id),
            }}
          />
        </section>
      </div>
    </Page>
  );
}
