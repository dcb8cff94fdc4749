// Camera / microphone / speaker selects and the microphone level meter, used
// on the prejoin screen and in the meeting's settings dialog.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, type Key } from '../i18n';
import { canChooseSpeaker, LevelMeter, listDevices, LocalMedia, type DeviceLists } from '../media/devices';
import { storage } from '../storage';

/** The device lists, refreshed when devices are plugged in or permission arrives. */
export function useDeviceLists(media: LocalMedia): DeviceLists {
  const [lists, setLists] = useState<DeviceLists>({ camera: [], microphone: [], speaker: [] });
  useEffect(() => {
    let alive = true;
    const load = (): void => {
      listDevices()
        .then((l) => alive && setLists(l))
        .catch(() => undefined);
    };
    load();
    const off = media.onChange(load);
    navigator.mediaDevices?.addEventListener?.('devicechange', load);
    return () => {
      alive = false;
      off();
      navigator.mediaDevices?.removeEventListener?.('devicechange', load);
    };
  }, [media]);
  return lists;
}

function DeviceSelect(props: {
  id: string;
  label: Key;
  devices: MediaDeviceInfo[];
  value: string;
  onChange(id: string): void;
}): JSX.Element {
  const kind = t(props.label);
  return (
    <div class="field">
      <label for={props.id}>{kind}</label>
      <select id={props.id} value={props.value} disabled={props.devices.length === 0} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.devices.length === 0 ? <option value="">{t('device.none')}</option> : null}
        {props.devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>
            {d.label || t('device.unnamed', { kind, n: i + 1 })}
          </option>
        ))}
      </select>
    </div>
  );
}

export interface DeviceActions {
  camera(id: string): void;
  microphone(id: string): void;
  speaker(id: string): void;
}

/** The three selects. Speaker appears only where the browser can route audio. */
export function DeviceSelects(props: { media: LocalMedia; idPrefix: string; actions: DeviceActions; speaker: string }): JSX.Element {
  const lists = useDeviceLists(props.media);
  const m = props.media;
  const cam = LocalMedia.deviceOf(m.video) || m.prefs.camera || lists.camera[0]?.deviceId || '';
  const mic = LocalMedia.deviceOf(m.audio) || m.prefs.microphone || lists.microphone[0]?.deviceId || '';
  return (
    <div class="device-selects">
      <DeviceSelect
        id={`${props.idPrefix}-camera`}
        label="device.camera"
        devices={lists.camera}
        value={cam}
        onChange={(id) => {
          storage.setDevice('camera', id);
          props.actions.camera(id);
        }}
      />
      <DeviceSelect
        id={`${props.idPrefix}-microphone`}
        label="device.microphone"
        devices={lists.microphone}
        value={mic}
        onChange={(id) => {
          storage.setDevice('microphone', id);
          props.actions.microphone(id);
        }}
      />
      {canChooseSpeaker() ? (
        <DeviceSelect
          id={`${props.idPrefix}-speaker`}
          label="device.speaker"
          devices={lists.speaker}
          value={props.speaker || lists.speaker[0]?.deviceId || ''}
          onChange={(id) => {
            storage.setDevice('speaker', id);
            props.actions.speaker(id);
          }}
        />
      ) : null}
    </div>
  );
}

/** A live level bar for a microphone track (role meter, named "Microphone level"). */
export function MicMeter(props: { track: MediaStreamTrack | null; on: boolean }): JSX.Element {
  const bar = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const track = props.track;
    if (!track) return;
    let meter: LevelMeter;
    try {
      meter = new LevelMeter(track);
    } catch {
      return;
    }
    // Updated straight in the DOM ten times a second, not through a re-render.
    const timer = window.setInterval(() => {
      const level = props.on ? meter.level() : 0;
      if (bar.current) bar.current.style.transform = `scaleX(${level.toFixed(3)})`;
      host.current?.setAttribute('aria-valuenow', String(Math.round(level * 100)));
    }, 100);
    return () => {
      window.clearInterval(timer);
      meter.close();
    };
  }, [props.track, props.on]);
  return (
    <div
      ref={host}
      class={`mic-meter${props.track && props.on ? '' : ' off'}`}
      role="meter"
      aria-label={t('device.micLevel')}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={0}
    >
      <div ref={bar} class="mic-meter-bar" />
    </div>
  );
}
