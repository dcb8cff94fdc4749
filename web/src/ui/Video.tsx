// A <video> showing one track. Muted always: sound plays through the separate
// <audio> elements, so a video element never doubles it.

import type { JSX } from 'preact';
import { useTrack } from './hooks';

export function Video(props: { track: MediaStreamTrack; mirror?: boolean; fit?: 'cover' | 'contain'; label?: string }): JSX.Element {
  const ref = useTrack<HTMLVideoElement>(props.track);
  return (
    <video
      ref={ref}
      class={`video${props.mirror ? ' mirror' : ''}${props.fit === 'contain' ? ' contain' : ''}`}
      autoplay
      playsInline
      muted
      aria-label={props.label}
    />
  );
}
