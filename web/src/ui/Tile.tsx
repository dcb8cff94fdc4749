// One participant's camera (or avatar) or one shared screen.

import type { JSX } from 'preact';
import { t } from '../i18n';
import { colourIndex, initials } from '../names';
import type { TileModel } from '../room';
import { MicOffIcon } from './icons';
import { Video } from './Video';

export interface TileProps {
  tile: TileModel<MediaStreamTrack>;
  /** Our own camera or screen track (remote tiles carry theirs in `tile.track`). */
  localTrack?: MediaStreamTrack | null;
}

export function Tile({ tile, localTrack }: TileProps): JSX.Element {
  const name = tile.self ? t('meeting.you', { name: tile.name }) : tile.name;
  const label = tile.kind === 'screen' ? t('meeting.screenOf', { name }) : name;
  const track = tile.self ? (localTrack ?? undefined) : tile.track;
  const showVideo = track !== undefined && tile.video;
  const classes = ['tile', tile.kind === 'screen' ? 'screen-tile' : 'camera-tile', tile.speaking ? 'speaking' : '', tile.self ? 'self' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <figure class={classes} aria-label={label} data-speaking={tile.speaking ? 'true' : 'false'} data-participant={tile.participant}>
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
      {tile.self && tile.kind === 'screen' ? <p class="tile-banner">{t('meeting.youShare')}</p> : null}
      <figcaption class="tile-caption">
        {tile.kind === 'camera' && !tile.audio ? (
          <span class="muted-badge" role="img" aria-label={t('meeting.micMuted')} title={t('meeting.micMuted')}>
            <MicOffIcon />
          </span>
        ) : null}
        <span class="tile-name">{label}</span>
      </figcaption>
    </figure>
  );
}
