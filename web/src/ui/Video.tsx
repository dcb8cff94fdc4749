// A <video> showing one track. Muted always: sound plays through the separate
// <audio> elements, so a video element never doubles it.

import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function Video(props: { track: MediaStreamTrack; mirror?: boolean; fit?: 'cover' | 'contain'; label?: string }): JSX.Element {
  const ref = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([props.track]);
    // autoplay alone can stall after srcObject changes; play() nudges it.
    el.play().catch(() => undefined);
    return () => {
      el.srcObject = null;
    };
  }, [props.track]);
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
