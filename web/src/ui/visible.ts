// Reports a tile's video to the view reporter while it is on screen: an
// IntersectionObserver says whether it is visible (a page not shown is not
// mounted at all; a filmstrip item scrolled away is clipped), a
// ResizeObserver how large it is. Sizes go out in device pixels.

import { useEffect } from 'preact/hooks';
import type { ViewReporter } from '../media/view';

export interface ViewTarget {
  participant: string;
  source: 'camera' | 'screen';
}

/** Below this share of its area on screen a tile counts as not shown. */
const MIN_VISIBLE = 0.1;
let tokens = 0;

export function useViewReport(el: HTMLElement | null, target: ViewTarget | null, reporter: ViewReporter | undefined): void {
  const participant = target?.participant;
  const source = target?.source;
  useEffect(() => {
    if (!el || !reporter || participant === undefined || source === undefined) return;
    const token = `tile${++tokens}`;
    let visible = false;
    const report = (): void => {
      const dpr = window.devicePixelRatio || 1;
      reporter.set(token, visible ? { participant, source, width: el.clientWidth * dpr, height: el.clientHeight * dpr } : null);
    };
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) visible = e.isIntersecting && e.intersectionRatio >= MIN_VISIBLE;
        report();
      },
      { threshold: [0, MIN_VISIBLE, 0.5, 1] },
    );
    const ro = new ResizeObserver(report);
    io.observe(el);
    ro.observe(el);
    return () => {
      io.disconnect();
      ro.disconnect();
      reporter.set(token, null);
    };
  }, [el, reporter, participant, source]);
}

/** A hidden tab (another tab in front, the window minimised) shows nothing. */
export function useHiddenReport(reporter: ViewReporter | undefined): void {
  useEffect(() => {
    if (!reporter) return;
    const update = (): void => reporter.setHidden(document.visibilityState === 'hidden');
    document.addEventListener('visibilitychange', update);
    update();
    return () => document.removeEventListener('visibilitychange', update);
  }, [reporter]);
}
