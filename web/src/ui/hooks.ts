// Small hooks shared by the components.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { RefObject } from 'preact';
import type { RoomState, RoomStore } from '../room';

/** Re-renders on every change of the room store. */
export function useRoom<T>(store: RoomStore<T>): RoomState<T> {
  const [state, setState] = useState(store.state);
  useEffect(() => {
    setState(store.state);
    return store.subscribe(setState);
  }, [store]);
  return state;
}

/** Re-renders whenever `subscribe` reports a change. */
export function useChanges(subscribe: (fn: () => void) => () => void): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const off = subscribe(() => setTick((n) => n + 1));
    // A change between the render and this effect would be missed: render once more.
    setTick((n) => n + 1);
    return off;
  }, [subscribe]);
}

/** The box size of an element, kept up to date. */
export function useSize(el: HTMLElement | null): { w: number; h: number } {
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    if (!el) return;
    const ro = new ResizeObserver(() => setSize({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setSize({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, [el]);
  return size;
}

/** A ref for a media element that plays `track`; play() is nudged because autoplay alone can stall after srcObject changes. */
export function useTrack<T extends HTMLMediaElement>(track: MediaStreamTrack): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = new MediaStream([track]);
    el.play().catch(() => undefined);
    return () => {
      el.srcObject = null;
    };
  }, [track]);
  return ref;
}

/**
 * A modal <dialog> shown while `open`. Escape always closes it through
 * onClose: the browser does that itself only with a recent user activation,
 * and the key must not also close a panel underneath.
 */
export function useModalDialog(open: boolean, onClose: () => void): {
  ref: RefObject<HTMLDialogElement | null>;
  onKeyDown(e: KeyboardEvent): void;
} {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  const onKeyDown = (e: KeyboardEvent): void => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  };
  return { ref, onKeyDown };
}
