// The meeting's controls. Every button's accessible name says what pressing it
// does now ("Mute microphone" / "Unmute microphone").

import type { JSX } from 'preact';
import { t, type Key } from '../i18n';
import type { LayoutMode } from '../layout';
import {
  CamIcon,
  CamOffIcon,
  ChatIcon,
  GearIcon,
  GridIcon,
  LeaveIcon,
  LinkIcon,
  MicIcon,
  MicOffIcon,
  PeopleIcon,
  ScreenIcon,
  ScreenOffIcon,
  SpeakerViewIcon,
} from './icons';

export interface ToolbarProps {
  micOn: boolean;
  cameraOn: boolean;
  sharing: boolean;
  canMic: boolean;
  canShare: boolean;
  onMic(): void;
  onCamera(): void;
  onShare(): void;
  /** Which side panel is open. */
  panel: 'chat' | 'people' | null;
  unread: number;
  /** People waiting in the lobby (shown to moderators). */
  waiting: number;
  onInvite(): void;
  onChat(): void;
  onPeople(): void;
  onSettings(): void;
  onLeave(): void;
  /** The current layout; the button switches to the other one. */
  layout?: LayoutMode;
  onLayout?(): void;
}

/** A button that opens or closes a side panel, with a count badge. */
function PanelButton(props: { name: string; label: string; icon: JSX.Element; open: boolean; count: number; controls: string; onClick(): void }): JSX.Element {
  return (
    <button
      type="button"
      class={`tool${props.open ? ' active' : ''}`}
      aria-label={props.label}
      title={props.label}
      aria-expanded={props.open ? 'true' : 'false'}
      aria-controls={props.open ? props.controls : undefined}
      data-panel-toggle={props.name}
      onClick={props.onClick}
    >
      {props.icon}
      {props.count > 0 ? (
        <span class="count-badge" aria-hidden="true">
          {props.count > 99 ? '99+' : props.count}
        </span>
      ) : null}
    </button>
  );
}

function ToolButton(props: { label: Key; icon: JSX.Element; off?: boolean; active?: boolean; disabled?: boolean; onClick(): void }): JSX.Element {
  const label = t(props.label);
  return (
    <button
      type="button"
      class={`tool${props.off ? ' off' : ''}${props.active ? ' active' : ''}`}
      aria-label={label}
      title={label}
      disabled={props.disabled}
      onClick={props.onClick}
    >
      {props.icon}
    </button>
  );
}

/** Left/Right (and Home/End) move between the buttons, as in any toolbar; Tab works too. */
function arrowKeys(e: KeyboardEvent): void {
  const bar = e.currentTarget as HTMLElement;
  const buttons = Array.from(bar.querySelectorAll<HTMLButtonElement>('button:not(:disabled)'));
  const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: buttons.length - 1 }[e.key];
  if (next === undefined) return;
  e.preventDefault();
  buttons[(next + buttons.length) % buttons.length]?.focus();
}

export function Toolbar(p: ToolbarProps): JSX.Element {
  return (
    <div class="toolbar" role="toolbar" aria-label={t('meeting.controls')} onKeyDown={arrowKeys}>
      <div class="tool-group">
        <ToolButton
          label={p.micOn ? 'meeting.mute' : 'meeting.unmute'}
          icon={p.micOn ? <MicIcon /> : <MicOffIcon />}
          off={!p.micOn}
          disabled={!p.canMic}
          onClick={p.onMic}
        />
        <ToolButton
          label={p.cameraOn ? 'meeting.stopCamera' : 'meeting.startCamera'}
          icon={p.cameraOn ? <CamIcon /> : <CamOffIcon />}
          off={!p.cameraOn}
          onClick={p.onCamera}
        />
        {p.canShare ? (
          <ToolButton
            label={p.sharing ? 'meeting.stopShare' : 'meeting.share'}
            icon={p.sharing ? <ScreenOffIcon /> : <ScreenIcon />}
            active={p.sharing}
            onClick={p.onShare}
          />
        ) : null}
        {p.layout && p.onLayout ? (
          <ToolButton
            label={p.layout === 'tiles' ? 'layout.speakerView' : 'layout.tileView'}
            icon={p.layout === 'tiles' ? <SpeakerViewIcon /> : <GridIcon />}
            onClick={p.onLayout}
          />
        ) : null}
        <ToolButton label="meeting.invite" icon={<LinkIcon />} onClick={p.onInvite} />
        <ToolButton label="meeting.settings" icon={<GearIcon />} onClick={p.onSettings} />
      </div>
      <div class="tool-group">
        <PanelButton
          name="chat"
          label={(p.panel === 'chat' ? t('chat.close') : t('chat.open')) + (p.unread > 0 && p.panel !== 'chat' ? `, ${t('chat.unread', { count: p.unread })}` : '')}
          icon={<ChatIcon />}
          open={p.panel === 'chat'}
          count={p.panel === 'chat' ? 0 : p.unread}
          controls="chat-panel"
          onClick={p.onChat}
        />
        <PanelButton
          name="people"
          label={t('people.toggle') + (p.waiting > 0 ? `, ${t('lobby.knockCount', { count: p.waiting })}` : '')}
          icon={<PeopleIcon />}
          open={p.panel === 'people'}
          count={p.waiting}
          controls="people-panel"
          onClick={p.onPeople}
        />
      </div>
      <button type="button" class="tool leave" aria-label={t('meeting.leave')} title={t('meeting.leave')} onClick={p.onLeave}>
        <LeaveIcon />
        <span class="leave-text">{t('meeting.leaveShort')}</span>
      </button>
    </div>
  );
}
