// The participants panel: everyone with role, microphone and camera state and
// the verification code of you and them; for moderators the lobby, actions
// per person and the meeting settings.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { colourIndex, initials } from '../names';
import type { ParticipantInfo } from '../protocol';
import { isModerator, type RoomState } from '../room';
import { useChanges, useModalDialog } from './hooks';
import { CamOffIcon, CheckIcon, CloseIcon, MicOffIcon, StarIcon, UnlockIcon } from './icons';
import { Name, T } from './Text';

function Badges(props: { p: ParticipantInfo; verified?: boolean }): JSX.Element {
  const { p } = props;
  return (
    <span class="person-badges">
      {props.verified ? (
        <span class="badge verified">
          <CheckIcon />
          {t('people.verified')}
        </span>
      ) : null}
      {p.e2ee !== true ? (
        <span class="badge plain">
          <UnlockIcon />
          {t('e2ee.notEncrypted')}
        </span>
      ) : null}
      {p.role === 'moderator' ? (
        <span class="badge moderator">
          <StarIcon />
          {t('people.moderator')}
        </span>
      ) : null}
      {!p.audio ? (
        <span class="state-icon" role="img" aria-label={t('meeting.micMuted')} title={t('meeting.micMuted')}>
          <MicOffIcon />
        </span>
      ) : null}
      {!p.video ? (
        <span class="state-icon" role="img" aria-label={t('people.camOff')} title={t('people.camOff')}>
          <CamOffIcon />
        </span>
      ) : null}
    </span>
  );
}

function Avatar(props: { p: ParticipantInfo }): JSX.Element {
  return (
    <span class={`avatar small avatar-c${colourIndex(props.p.id || props.p.name)}`} aria-hidden="true">
      {initials(props.p.name)}
    </span>
  );
}

function Person(props: { call: Call; p: ParticipantInfo; moderator: boolean }): JSX.Element {
  const { call, p } = props;
  const code = call.keys.code(p);
  const hasPublicKey = !!p.publicKey;
  const verified = call.keys.isVerified(p);
  return (
    <li class="person" data-participant={p.id}>
      <div class="person-line">
        <Avatar p={p} />
        <span class="person-name">
          <Name name={p.name} />
        </span>
        <Badges p={p} verified={verified} />
      </div>
      {hasPublicKey ? (
        <div class="code">
          <p>
            <span>
              <T k="people.code" params={{ name: p.name }} />
            </span>{' '}
            <span class="code-emoji" data-code-with={p.id}>
              {code ? code.join('') : '…'}
            </span>
          </p>
          {code ? (
            <button type="button" class="small-button verify-button" aria-pressed={verified ? 'true' : 'false'} onClick={() => call.keys.setVerified(p, !verified)}>
              {verified ? t('people.unverify') : t('people.verify')}
            </button>
          ) : null}
          {verified ? (
            <p class="hint">
              <T k="people.verifiedHint" params={{ name: p.name }} />
            </p>
          ) : null}
        </div>
      ) : (
        <p class="code">
          <T k="people.noCode" params={{ name: p.name }} />
        </p>
      )}
      {!p.hasKey ? <p class="person-note">{t('people.noKey')}</p> : null}
      {props.moderator ? (
        <div class="person-actions" role="group" aria-label={p.name}>
          <button type="button" class="small-button" disabled={!p.audio} onClick={() => call.moderate({ type: 'participant.mute', id: p.id, kind: 'audio' })}>
            {t('mod.mute')}
          </button>
          <button type="button" class="small-button" disabled={!p.video} onClick={() => call.moderate({ type: 'participant.mute', id: p.id, kind: 'video' })}>
            {t('mod.stopCamera')}
          </button>
          {p.role !== 'moderator' ? (
            <button type="button" class="small-button" onClick={() => call.moderate({ type: 'participant.grant', id: p.id })}>
              {t('mod.grant')}
            </button>
          ) : null}
          <button type="button" class="small-button danger" onClick={() => call.moderate({ type: 'participant.remove', id: p.id })}>
            {t('mod.remove')}
          </button>
        </div>
      ) : null}
    </li>
  );
}

function ConfirmEnd(props: { open: boolean; onConfirm(): void; onCancel(): void }): JSX.Element {
  const { ref, onKeyDown } = useModalDialog(props.open, props.onCancel);
  return (
    <dialog
      ref={ref}
      class="settings confirm"
      aria-labelledby="end-title"
      aria-describedby="end-text"
      onClose={props.onCancel}
      onKeyDown={onKeyDown}
    >
      <h2 id="end-title">{t('mod.endTitle')}</h2>
      <p id="end-text">{t('mod.endText')}</p>
      <div class="dialog-actions">
        <button type="button" class="secondary" onClick={props.onCancel}>
          {t('mod.cancel')}
        </button>
        <button type="button" class="danger-button" onClick={props.onConfirm}>
          {t('mod.end')}
        </button>
      </div>
    </dialog>
  );
}

function Switch(props: { id: string; label: string; hint: string; checked: boolean; disabled?: boolean; onChange(on: boolean): void }): JSX.Element {
  return (
    <div class="setting-row lobby-setting">
      <label class="check switch">
        <input
          type="checkbox"
          role="switch"
          checked={props.checked}
          disabled={props.disabled}
          aria-describedby={`${props.id}-hint`}
          onChange={(e) => props.onChange(e.currentTarget.checked)}
        />
        {props.label}
      </label>
      <p id={`${props.id}-hint`} class="hint">
        {props.hint}
      </p>
    </div>
  );
}

function MeetingSettings(props: { call: Call; state: RoomState<MediaStreamTrack> }): JSX.Element {
  const { call, state } = props;
  const [password, setPassword] = useState('');
  const [include, setInclude] = useState(call.includePassword);
  const has = state.settings.password;
  return (
    <section class="panel-section" aria-labelledby="mod-settings-title">
      <h3 id="mod-settings-title">{t('mod.settings')}</h3>
      <form
        class="password-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (password === '') return;
          call.moderate({ type: 'room.password', password });
          setPassword('');
        }}
      >
        <p class="setting-state">{has ? t('mod.passwordOn') : t('mod.passwordOff')}</p>
        <label for="meeting-password">{t('mod.password')}</label>
        <div class="input-row">
          <input
            id="meeting-password"
            type="password"
            autoComplete="new-password"
            maxLength={128}
            value={password}
            aria-describedby="meeting-password-hint"
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <button type="submit" class="small-button" disabled={password === ''}>
            {has ? t('mod.changePassword') : t('mod.setPassword')}
          </button>
        </div>
        <p id="meeting-password-hint" class="hint">
          {t('mod.passwordHint')}
        </p>
        {has ? (
          <div class="setting-row">
            {call.knowsPassword ? (
              <label class="check">
                <input
                  type="checkbox"
                  checked={include}
                  onChange={(e) => {
                    call.includePassword = e.currentTarget.checked;
                    setInclude(e.currentTarget.checked);
                  }}
                />
                {t('mod.includePassword')}
              </label>
            ) : null}
            <button type="button" class="small-button" onClick={() => call.moderate({ type: 'room.password', password: '' })}>
              {t('mod.removePassword')}
            </button>
          </div>
        ) : null}
      </form>
      <Switch id="lobby" label={t('mod.lobby')} hint={t('mod.lobbyHint')} checked={state.settings.lobby} onChange={(on) => call.moderate({ type: 'room.lobby', enabled: on })} />
      <Switch
        id="e2ee"
        label={t('mod.e2ee')}
        hint={call.session.e2ee ? t('mod.e2eeHint') : t('mod.e2eeUnavailable')}
        checked={state.settings.e2eeRequired === true}
        disabled={!call.session.e2ee}
        onChange={(on) => call.moderate({ type: 'room.e2ee', required: on })}
      />
      <Switch
        id="p2p"
        label={t('mod.p2p')}
        hint={t('mod.p2pHint')}
        checked={state.settings.p2p !== false}
        onChange={(on) => call.moderate({ type: 'room.p2p', enabled: on })}
      />
    </section>
  );
}

export function PeoplePanel(props: { call: Call; state: RoomState<MediaStreamTrack>; onClose(): void }): JSX.Element {
  const { call, state } = props;
  useChanges(call.keys.onChange);
  const [confirm, setConfirm] = useState(false);
  const moderator = isModerator(state);
  const self: ParticipantInfo = { ...state.self, id: state.selfId ?? '', hasKey: call.keys.hasKey, e2ee: call.session.e2ee };
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);

  return (
    <aside class="panel people-panel" id="people-panel" aria-labelledby="people-title">
      <div class="panel-head">
        <h2 id="people-title" ref={heading} tabIndex={-1}>
          {t('people.title')}
        </h2>
        <button type="button" class="ghost icon-button" aria-label={t('panel.close')} title={t('panel.close')} onClick={props.onClose}>
          <CloseIcon />
        </button>
      </div>
      {moderator && state.knocks.length ? (
        <section class="lobby-list" aria-labelledby="lobby-list-title">
          <h3 id="lobby-list-title">{t('people.lobby')}</h3>
          <ul>
            {state.knocks.map((k) => (
              <li key={k.id} class={k.reason ? 'knock unchecked' : 'knock'}>
                <span class="knock-who">
                  <span>
                    <T k="people.knock" params={{ name: k.name }} />
                  </span>
                  {/* Waiting although the lobby may be off: say why, so the decision is an informed one. */}
                  {k.reason ? (
                    <span class="knock-reason" id={`knock-reason-${k.id}`}>
                      {t(k.reason === 'password' ? 'people.knockPassword' : 'people.knockRemoved')}
                    </span>
                  ) : null}
                </span>
                <span class="knock-actions" role="group" aria-label={k.name} aria-describedby={k.reason ? `knock-reason-${k.id}` : undefined}>
                  <button type="button" class="small-button primary" onClick={() => call.moderate({ type: 'lobby.admit', id: k.id })}>
                    {t('people.admit')}
                  </button>
                  <button type="button" class="small-button" onClick={() => call.moderate({ type: 'lobby.deny', id: k.id })}>
                    {t('people.deny')}
                  </button>
                </span>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <div class="panel-scroll">
        <ul class="people-list">
          <li class="person self" data-participant={self.id}>
            <div class="person-line">
              <Avatar p={self} />
              <span class="person-name">
                <T k="meeting.you" params={{ name: self.name }} />
              </span>
              <Badges p={self} />
            </div>
            {!call.keys.hasKey ? <p class="person-note">{t('people.noKey')}</p> : null}
          </li>
          {state.others.map((p) => (
            <Person key={p.id} call={call} p={p} moderator={moderator} />
          ))}
        </ul>
        {state.others.length ? <p class="hint code-hint">{t('people.codeHint')}</p> : null}
        {moderator ? (
          <>
            <section class="panel-section">
              <div class="setting-row">
                <button type="button" class="small-button" onClick={() => call.moderate({ type: 'room.mute', kind: 'audio' })} disabled={state.others.length === 0}>
                  {t('mod.muteAll')}
                </button>
                <button type="button" class="small-button danger" onClick={() => setConfirm(true)}>
                  {t('mod.end')}
                </button>
              </div>
            </section>
            <MeetingSettings call={call} state={state} />
          </>
        ) : null}
      </div>
      <ConfirmEnd
        open={confirm}
        onCancel={() => setConfirm(false)}
        onConfirm={() => {
          setConfirm(false);
          call.moderate({ type: 'room.end' });
        }}
      />
    </aside>
  );
}
