// The meeting screen: tiles (a grid, or a stage for shared screens with the
// cameras in a strip), the toolbar, the settings dialog and the notices.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { audioTracks, isModerator, tiles } from '../room';
import { ChatPanel } from './ChatPanel';
import { EncryptionInfo } from './EncryptionInfo';
import { LobbyWait, PasswordPrompt } from './Gate';
import { useChanges, useRoom, useTrack } from './hooks';
import { Logo, PeopleIcon } from './icons';
import { LanguageSwitch } from './LanguageSwitch';
import { Layout, useLayoutMode, type Extra } from './Layout';
import { NoticeArea, type Notices } from './Notices';
import { PeoplePanel } from './PeoplePanel';
import { ReconnectBanner } from './Reconnect';
import { Settings } from './Settings';
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
  const [layout, toggleLayout] = useLayoutMode(screens.length);
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
      <main class={`meeting-main${layout === 'speaker' ? ' has-stage' : ''}`} aria-label={t('meeting.participants')}>
        {call.phase === 'connecting' ? <p class="connecting">{t('meeting.connecting')}</p> : null}
        <Layout call={call} state={state} mode={layout} screens={screens} cameras={cameras} extra={extra} alone={alone} />
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
        layout={layout}
        onLayout={toggleLayout}
        onLeave={() => call.leave()}
      />

      <Settings
        open={settingsOpen}
        media={media}
        onClose={() => setSettingsOpen(false)}
        view={call.view}
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
