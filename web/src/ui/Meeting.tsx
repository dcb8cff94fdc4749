// The meeting screen: tiles (a grid, or a stage for shared screens with the
// cameras in a strip), the toolbar, the settings dialog and the notices.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { audioTracks, gridColumns, isModerator, tiles, type TileModel } from '../room';
import { ChatPanel } from './ChatPanel';
import { EncryptionInfo } from './EncryptionInfo';
import { LobbyWait, PasswordPrompt } from './Gate';
import { useChanges, useRoom, useSize, useTrack } from './hooks';
import { Logo, PeopleIcon } from './icons';
import { LanguageSwitch } from './LanguageSwitch';
import { NoticeArea, type Notices } from './Notices';
import { PeoplePanel } from './PeoplePanel';
import { ReconnectBanner } from './Reconnect';
import { Settings } from './Settings';
import { Tile, type TileProps } from './Tile';
import { Toolbar } from './Toolbar';

declare global {
  interface Window {
    /** Read-only numbers for the browser tests; holds nothing private. */
    __plausch?: { stats(): Promise<unknown>; joinStartedAt: number; e2ee(): Promise<unknown>; wrongKey(id: string): void };
  }
}

/** Plays one remote audio track, on the chosen speaker where the browser allows. */
function RemoteAudio(props: { track: MediaStreamTrack; speaker: string; participant: string }): JSX.Element {
  const ref = useTrack<HTMLAudioElement>(props.track);
  useEffect(() => {
    const el = ref.current as (HTMLAudioElement & { setSinkId?(id: string): Promise<void> }) | null;
    if (el?.setSinkId && props.speaker) el.setSinkId(props.speaker).catch(() => undefined);
  }, [props.speaker]);
  return <audio ref={ref} autoplay data-participant={props.participant} />;
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Older or insecure contexts: the selection-based way.
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.append(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}

type Extra = (c: TileModel<MediaStreamTrack>) => Pick<TileProps, 'media' | 'verified' | 'reconnecting'>;

function CameraGrid(props: { cameras: TileModel<MediaStreamTrack>[]; local: MediaStreamTrack | null; alone: boolean; extra: Extra }): JSX.Element {
  const [box, setBox] = useState<HTMLElement | null>(null);
  const { w, h } = useSize(box);
  const n = props.cameras.length;
  const gap = 12;
  // Portrait screens get taller tiles, so phones are not all letterbox.
  const aspect = h > w * 1.2 ? 4 / 3 : 16 / 9;
  const reserve = props.alone ? 110 : 0;
  const cols = gridColumns(n, w, h - reserve, aspect);
  const rows = Math.ceil(n / cols);
  const tileW = Math.max(120, Math.floor(Math.min((w - gap * (cols - 1)) / cols, ((h - reserve - gap * (rows - 1)) / rows) * aspect)));
  return (
    <div class={`grid${props.alone ? ' alone' : ''}`} ref={setBox} style={{ '--cols': String(cols), '--tile-w': `${tileW}px`, '--tile-aspect': String(aspect) }}>
      <div class="grid-tiles">
        {props.cameras.map((c) => (
          <Tile key={c.key} tile={c} localTrack={c.self ? props.local : undefined} {...props.extra(c)} />
        ))}
      </div>
      {props.alone ? (
        <div class="alone-hint">
          <p class="alone-title">{t('meeting.alone')}</p>
          <p>{t('meeting.aloneHint')}</p>
        </div>
      ) : null}
    </div>
  );
}

type Panel = 'chat' | 'people' | null;

export function Meeting(props: { call: Call; notices: Notices; navigate(path: string): void }): JSX.Element {
  const { call, notices } = props;
  const state = useRoom(call.store);
  useChanges(call.onPhase);
  useChanges(call.media.onChange);
  useChanges(call.chat.subscribe);
  useChanges(call.session.onChange);
  useChanges(call.keys.onChange);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [panel, setPanelState] = useState<Panel>(null);
  const setPanel = (next: Panel, refocus = false): void => {
    const was = panel;
    setPanelState(next);
    call.chat.setOpen(next === 'chat');
    // Closing a panel from inside it puts the focus back on its button.
    if (refocus && was) window.setTimeout(() => document.querySelector<HTMLElement>(`[data-panel-toggle="${was}"]`)?.focus(), 0);
  };
  const [busy, setBusy] = useState(false);
  const media = call.media;
  const speaker = media.prefs.speaker ?? '';
  const { screens, cameras } = tiles(state);
  const count = state.others.length + 1;
  const extra: Extra = (c) => {
    if (c.self) return { media: call.session.e2ee ? 'ok' : 'plain' };
    const p = state.others.find((o) => o.id === c.participant);
    return p ? { media: call.session.peerMedia(p), verified: call.keys.isVerified(p), reconnecting: p.reconnecting === true } : {};
  };

  useEffect(() => {
    window.__plausch = {
      stats: () => call.stats(),
      joinStartedAt: call.startedAt,
      e2ee: () => call.session.e2eeInfo(),
      // Test hook: from now on this browser holds wrong keys for that participant.
      wrongKey: (id: string) => call.session.frames?.corrupt(id),
    };
    // Closing the tab: say goodbye so the others see us go at once.
    const bye = (): void => call.leave();
    window.addEventListener('pagehide', bye);
    return () => {
      window.removeEventListener('pagehide', bye);
      delete window.__plausch;
    };
  }, [call]);

  useEffect(() => {
    document.title = `${state.room} · ${t('app.name')}`;
  });

  const invite = async (): Promise<void> => {
    const url = call.inviteLink();
    if (await copyText(url)) notices.push({ key: 'meeting.inviteCopied' });
    else notices.push({ key: 'meeting.inviteFailed', params: { url } });
  };

  // Camera and screen changes take a moment; one at a time.
  const guarded = (fn: () => Promise<void>) => (): void => {
    if (busy) return;
    setBusy(true);
    void fn().finally(() => setBusy(false));
  };

  const canShare = typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  const screenTrack = call.screenTrack();
  const alone = state.others.length === 0 && call.phase === 'joined';

  if (call.phase === 'password') return <PasswordPrompt call={call} room={state.room} navigate={props.navigate} />;
  if (call.phase === 'lobby') return <LobbyWait call={call} room={state.room} navigate={props.navigate} />;

  const closeOnEscape = (e: KeyboardEvent): void => {
    if (e.key === 'Escape' && !e.defaultPrevented) {
      e.preventDefault();
      setPanel(null, true);
    }
  };

  return (
    <div class={`meeting${panel ? ' with-panel' : ''}`}>
      <header class="meeting-header">
        {/* Not a link here: one stray click must not end the meeting. */}
        <span class="brand">
          <Logo size={32} />
        </span>
        <div class="meeting-title">
          <h1 class="room-name" title={state.room}>
            {state.room}
          </h1>
          <span class="people">
            <PeopleIcon />
            {count === 1 ? t('meeting.peopleOne') : t('meeting.peopleMany', { count })}
          </span>
        </div>
        <EncryptionInfo call={call} state={state} />
        <LanguageSwitch />
      </header>

      <div class="meeting-body">
      <main class={`meeting-main${screens.length ? ' has-stage' : ''}`} aria-label={t('meeting.participants')}>
        {call.phase === 'connecting' ? <p class="connecting">{t('meeting.connecting')}</p> : null}
        {screens.length ? (
          <div class="stage-layout">
            <div class={`stage stage-${Math.min(screens.length, 2)}`}>
              {screens.map((s) => (
                <Tile key={s.key} tile={s} localTrack={s.self ? screenTrack : undefined} {...extra(s)} />
              ))}
            </div>
            <div class="strip">
              {cameras.map((c) => (
                <Tile key={c.key} tile={c} localTrack={c.self ? media.video : undefined} {...extra(c)} />
              ))}
            </div>
          </div>
        ) : (
          <CameraGrid cameras={cameras} local={media.video} alone={alone} extra={extra} />
        )}
      </main>
      {panel ? (
        <div class="panel-frame" onKeyDown={closeOnEscape}>
          {panel === 'chat' ? (
            <ChatPanel call={call} state={state} onClose={() => setPanel(null, true)} />
          ) : (
            <PeoplePanel call={call} state={state} onClose={() => setPanel(null, true)} />
          )}
        </div>
      ) : null}
      </div>

      <Toolbar
        micOn={media.micOn}
        cameraOn={media.cameraOn}
        sharing={call.sharing}
        canMic={media.audio !== null}
        canShare={canShare}
        onMic={() => call.setMic(!media.micOn)}
        onCamera={guarded(() => call.setCamera(!media.cameraOn))}
        onShare={guarded(() => (call.sharing ? call.stopScreen() : call.startScreen()))}
        panel={panel}
        unread={call.chat.unread}
        waiting={isModerator(state) ? state.knocks.length : 0}
        onInvite={() => void invite()}
        onChat={() => setPanel(panel === 'chat' ? null : 'chat')}
        onPeople={() => setPanel(panel === 'people' ? null : 'people')}
        onSettings={() => setSettingsOpen(true)}
        onLeave={() => call.leave()}
      />

      <Settings
        open={settingsOpen}
        media={media}
        onClose={() => setSettingsOpen(false)}
        actions={{
          camera: (id) => void call.switchCamera(id),
          microphone: (id) => void call.switchMicrophone(id),
          speaker: (id) => media.setSpeaker(id),
        }}
      />

      <NoticeArea notices={notices} />
      <ReconnectBanner call={call} />

      <div class="audio-sinks" aria-hidden="true">
        {audioTracks(state)
          // Encrypted audio this browser cannot decrypt would play as noise: not played at all.
          .filter((a) => call.session.e2ee || state.others.find((p) => p.id === a.participant)?.e2ee !== true)
          .map((a) => (
            <RemoteAudio key={a.mid} track={a.track} speaker={speaker} participant={a.participant} />
          ))}
      </div>
    </div>
  );
}
