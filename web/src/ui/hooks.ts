// Small hooks shared by the components.

import { useEffect, useState } from 'preact/hooks';
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
  useEffect(() => subscribe(() => setTick((n) => n + 1)), [subscribe]);
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
