// One participant's camera (or avatar) or one shared screen, with what is
// true of its encryption: a participant whose browser cannot encrypt is
// marked "not end-to-end encrypted"; media that does not decrypt here is not
// shown (the avatar and "cannot decrypt" instead), nor is media whose keys
// are still on their way.

import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { t } from '../i18n';
import type { PeerMedia } from '../media/session';
import type { ViewReporter } from '../media/view';
import type { QualityFigures } from '../quality';
import { colourIndex, initials } from '../names';
import type { TileModel } from '../room';
import { CheckIcon, MicOffIcon, UnlockIcon } from './icons';
import { QualityIndicator } from './Quality';
import { Name, T } from './Text';
import { Video } from './Video';
import { useViewReport } from './visible';

export interface TileProps {
  tile: TileModel<MediaStreamTrack>;
  /** Our own camera or screen track (remote tiles carry theirs in `tile.track`). */
  localTrack?: MediaStreamTrack | null;
  /** The state of this participant's media encryption here ('plain' for ourselves when we cannot encrypt). */
  media?: PeerMedia;
  /** We compared the verification code with them. */
  verified?: boolean;
  /** Connection figures for the indicator (none: no indicator). */
  quality?: QualityFigures;
  /** The server does not send this video now (last-N, bandwidth): the avatar instead of a frozen picture. */
  paused?: boolean;
  /** Reports this tile's video as shown (with its size) while it is on screen. */
  view?: ViewReporter;
  /** Their connection is lost for the moment and may come back. */
  reconnecting?: boolean;
}

function blocked(media: PeerMedia | undefined, name: string): JSX.Element | string | null {
  if (media === 'failing') return t('e2ee.cannotDecrypt');
  if (media === 'unsupported') return <T k="e2ee.unsupported" params={{ name }} />;
  if (media === 'waiting') return t('e2ee.exchanging');
  return null;
}

export function Tile({ tile, localTrack, media, verified, reconnecting, quality, paused, view }: TileProps): JSX.Element {
  const [el, setEl] = useState<HTMLElement | null>(null);
  useViewReport(el, view ? { participant: tile.participant, source: tile.kind } : null, view);
  const name = tile.self ? t('meeting.you', { name: tile.name }) : tile.name;
  const label = tile.kind === 'screen' ? t('meeting.screenOf', { name }) : name;
  // The caption shows the same as the label, with the name isolated.
  const who = tile.self ? <T k="meeting.you" params={{ name: tile.name }} /> : <Name name={tile.name} />;
  const caption = tile.kind === 'screen' ? <T k="meeting.screenOf" params={{ name: who }} /> : who;
  const track = tile.self ? (localTrack ?? undefined) : tile.track;
  const why = tile.self ? null : blocked(media, tile.name);
  const showVideo = track !== undefined && tile.video && why === null && !paused;
  const classes = ['tile', tile.kind === 'screen' ? 'screen-tile' : 'camera-tile', tile.speaking ? 'speaking' : '', tile.self ? 'self' : '', why ? 'blocked' : '', reconnecting ? 'reconnecting' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <figure
      ref={setEl}
      class={classes}
      aria-label={label}
      data-speaking={tile.speaking ? 'true' : 'false'}
      data-participant={tile.participant}
      data-e2ee={media ?? 'ok'}
      data-forwarded={paused ? 'false' : undefined}
    >
      {showVideo && track ? (
        // Our own camera is mirrored like a mirror; screens never are.
        <Video track={track} mirror={tile.self && tile.kind === 'camera'} fit={tile.kind === 'screen' ? 'contain' : 'cover'} />
      ) : (
        <div class="tile-empty">
          <div class={`avatar avatar-c${colourIndex(tile.participant || tile.name)}`} aria-hidden="true">
            {initials(tile.name)}
          </div>
        </div>
      )}
      {reconnecting ? (
        <p class="tile-state" role="status">
          {t('meeting.reconnecting')}
        </p>
      ) : why ? (
        <p class={`tile-state${media === 'waiting' ? '' : ' bad'}`} role="status" title={media === 'failing' ? t('e2ee.cannotDecryptText', { name: tile.name }) : undefined}>
          {why}
        </p>
      ) : null}
      {tile.self && tile.kind === 'screen' ? <p class="tile-banner">{t('meeting.youShare')}</p> : null}
      {quality ? (
        <div class="tile-corner">
          <QualityIndicator figures={quality} name={tile.name} self={tile.self} />
        </div>
      ) : null}
      <figcaption class="tile-caption">
        {tile.kind === 'camera' && !tile.audio ? (
          <span class="muted-badge" role="img" aria-label={t('meeting.micMuted')} title={t('meeting.micMuted')}>
            <MicOffIcon />
          </span>
        ) : null}
        <span class="tile-name">{caption}</span>
        {verified ? (
          <span class="verified-badge" role="img" aria-label={t('people.verified')} title={t('people.verified')}>
            <CheckIcon />
          </span>
        ) : null}
        {media === 'plain' ? (
          <span class="plain-badge" title={t('e2ee.notEncrypted')}>
            <UnlockIcon />
            <span>{t('e2ee.notEncrypted')}</span>
          </span>
        ) : null}
      </figcaption>
    </figure>
  );
}
