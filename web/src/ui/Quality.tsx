// The connection indicator on a tile: signal bars whose accessible name says
// the level ("Connection: good"), with the figures behind it in a tooltip
// that opens on hover and on keyboard focus (and on a tap, which focuses),
// and closes with Escape. The tooltip is fixed-positioned so a small tile
// does not clip it.

import type { JSX } from 'preact';
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { getLang, t } from '../i18n';
import { bars, formatLoss, formatRate, formatRtt, type QualityFigures } from '../quality';
import { BarsIcon } from './icons';
import { T } from './Text';

const MARGIN = 8;

export function QualityIndicator(props: { figures: QualityFigures; name: string; self: boolean }): JSX.Element {
  const { figures } = props;
  const [hover, setHover] = useState(false);
  const [focus, setFocus] = useState(false);
  const [dismissed, setDismissed] = useState(false);
  const [pos, setPos] = useState<{ left: number; top: number } | null>(null);
  const button = useRef<HTMLButtonElement>(null);
  const pop = useRef<HTMLDivElement>(null);
  const id = useId();
  const open = (hover || focus) && !dismissed;
  const levelText = t(`quality.${figures.level}`);
  const lang = getLang();
  const none = t('quality.none');

  // Placed below the bars, or above when there is no room; always inside the window.
  useLayoutEffect(() => {
    if (!open) {
      if (pos) setPos(null);
      return;
    }
    const b = button.current?.getBoundingClientRect();
    const p = pop.current?.getBoundingClientRect();
    if (!b || !p) return;
    const left = Math.min(Math.max(MARGIN, b.right - p.width), window.innerWidth - p.width - MARGIN);
    let top = b.bottom + 6;
    if (top + p.height > window.innerHeight - MARGIN) top = Math.max(MARGIN, b.top - p.height - 6);
    if (!pos || pos.left !== left || pos.top !== top) setPos({ left, top });
  });

  const rows: [string, string | null][] = [
    [t('quality.send'), formatRate(figures.sendKbps, lang)],
    [t('quality.receive'), formatRate(figures.recvKbps, lang)],
    [t('quality.loss'), formatLoss(figures.loss, lang)],
    [t('quality.rtt'), formatRtt(figures.rtt, lang)],
  ];
  return (
    <div
      class={`quality q-${figures.level}`}
      data-level={figures.level}
      onMouseEnter={() => {
        setHover(true);
        setDismissed(false);
      }}
      onMouseLeave={() => setHover(false)}
    >
      <button
        ref={button}
        type="button"
        class="quality-button"
        aria-label={t('quality.label', { level: levelText })}
        aria-describedby={id}
        onFocus={() => {
          setFocus(true);
          setDismissed(false);
        }}
        onBlur={() => setFocus(false)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && open) {
            e.preventDefault();
            e.stopPropagation();
            setDismissed(true);
          }
        }}
      >
        <BarsIcon lit={bars(figures.level)} />
      </button>
      <div
        ref={pop}
        id={id}
        role="tooltip"
        class={`quality-pop${pos ? ' placed' : ''}`}
        hidden={!open}
        style={pos ? { left: `${pos.left}px`, top: `${pos.top}px` } : undefined}
      >
        <p class="quality-title">
          {props.self ? t('quality.yours') : <T k="quality.of" params={{ name: props.name }} />}: {levelText}
        </p>
        <dl>
          {rows.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{v ?? none}</dd>
            </div>
          ))}
        </dl>
      </div>
    </div>
  );
}
