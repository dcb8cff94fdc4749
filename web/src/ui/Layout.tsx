// The tiles of the meeting in one of two layouts (layout.ts decides):
// tile view, a grid that pages through large meetings with our own tile on
// every page; and speaker view, a shared screen or the dominant speaker large
// with everyone else in a filmstrip. Every remote tile reports its video to
// the view reporter while it is on screen, so the server sends only those, in
// a size that fits; a video it does not send shows the avatar.

import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Call } from '../call';
import { t } from '../i18n';
import { clampPage, initialMode, nextMode, pageCount, pageItems, pageSize, pickSpeaker, type LayoutMode, type ModeState } from '../layout';
import { combine, fromServer, type QualityFigures } from '../quality';
import { gridColumns, type RoomState, type TileModel } from '../room';
import { isForwarded, type StageState } from '../stage';
import { Filmstrip } from './Filmstrip';
import { useChanges, useSize } from './hooks';
import { Pager } from './Pager';
import { Tile, type TileProps } from './Tile';
import { useHiddenReport } from './visible';

type Model = TileModel<MediaStreamTrack>;
export type Extra = (c: Model) => Pick<TileProps, 'media' | 'verified' | 'reconnecting'>;

/** The layout mode with its automatic switch to speaker view while a screen is shared. */
export function useLayoutMode(screens: number): [LayoutMode, () => void] {
  const [s, setS] = useState<ModeState>(initialMode);
  const before = useRef(screens);
  useEffect(() => {
    if (before.current !== screens) setS((cur) => nextMode(cur, { type: 'screens', before: before.current, now: screens }));
    before.current = screens;
  }, [screens]);
  return [s.mode, () => setS((cur) => nextMode(cur, { type: 'toggle' }))];
}

export interface LayoutProps {
  call: Call;
  state: RoomState<MediaStreamTrack>;
  mode: LayoutMode;
  screens: Model[];
  cameras: Model[];
  extra: Extra;
  alone: boolean;
}

/** What every tile needs beyond its model: encryption state, quality, forwarding, view reporting. */
function tileProps(p: LayoutProps, stage: StageState, c: Model): Omit<TileProps, 'tile'> {
  const { call, state } = p;
  let quality: QualityFigures;
  if (c.self) quality = combine(stage.quality[c.participant], stage.local);
  else if (state.direct?.peer === c.participant) quality = combine(stage.quality[c.participant], stage.direct);
  else quality = fromServer(stage.quality[c.participant]);
  const out: Omit<TileProps, 'tile'> = { ...p.extra(c), quality };
  if (c.self) return { ...out, localTrack: c.kind === 'screen' ? call.screenTrack() : call.media.video };
  const viaServer = state.mode === 'sfu' && state.direct?.peer !== c.participant;
  const wantsVideo = c.kind === 'screen' || state.others.find((o) => o.id === c.participant)?.video === true;
  if (wantsVideo) out.view = call.view;
  if (viaServer && c.video && !isForwarded(stage, c.participant, c.kind)) out.paused = true;
  return out;
}

function TileView(props: LayoutProps & { stage: StageState }): JSX.Element {
  const [box, setBox] = useState<HTMLElement | null>(null);
  const [page, setPage] = useState(0);
  const { w, h } = useSize(box);
  const self = props.cameras.find((c) => c.self);
  // Shared screens first, then the others' cameras; ours is on every page.
  const items = [...props.screens, ...props.cameras.filter((c) => !c.self)];
  const size = pageSize(w, h);
  const pages = pageCount(items.length, size);
  const current = clampPage(page, items.length, size);
  const shown = [...(self ? [self] : []), ...pageItems(items, current, size)];
  useEffect(() => {
    if (current !== page) setPage(current);
  }, [current, page]);

  const n = shown.length;
  const gap = 12;
  const pagerH = pages > 1 ? 52 : 0;
  // Portrait screens get taller tiles, so phones are not all letterbox.
  const aspect = h > w * 1.2 ? 4 / 3 : 16 / 9;
  const reserve = (props.alone ? 110 : 0) + pagerH;
  const cols = gridColumns(n, w, h - reserve, aspect);
  const rows = Math.ceil(n / cols);
  const tileW = Math.max(120, Math.floor(Math.min((w - gap * (cols - 1)) / cols, ((h - reserve - gap * (rows - 1)) / rows) * aspect)));
  return (
    <div class={`grid${props.alone ? ' alone' : ''}`} ref={setBox} style={{ '--cols': String(cols), '--tile-w': `${tileW}px`, '--tile-aspect': String(aspect) }}>
      <div class="grid-tiles">
        {shown.map((c) => (
          <Tile key={c.key} tile={c} {...tileProps(props, props.stage, c)} />
        ))}
      </div>
      <Pager page={current} count={pages} onPage={setPage} />
      {props.alone ? (
        <div class="alone-hint">
          <p class="alone-title">{t('meeting.alone')}</p>
          <p>{t('meeting.aloneHint')}</p>
        </div>
      ) : null}
    </div>
  );
}

function SpeakerView(props: LayoutProps & { stage: StageState }): JSX.Element {
  const { screens, cameras, stage, state } = props;
  const previous = useRef<string | null>(null);
  const recent = useRef<string | null>(null);
  // Without the server's word (a direct call, an older server): who spoke last.
  const speakingNow = cameras.find((c) => !c.self && c.speaking);
  if (speakingNow) recent.current = speakingNow.participant;
  const dominant = state.mode === 'sfu' && stage.dominant !== null ? stage.dominant : recent.current;
  const speaker = screens.length ? null : pickSpeaker(cameras, dominant, previous.current);
  previous.current = speaker ?? previous.current;
  const large = screens.length ? screens : cameras.filter((c) => c.participant === speaker);
  const largeKeys = new Set(large.map((c) => c.key));
  const strip = cameras.filter((c) => !largeKeys.has(c.key));
  return (
    <div class={`stage-layout${strip.length ? '' : ' no-strip'}`}>
      <div class={`stage stage-${Math.min(large.length, 2)}`} role="group" aria-label={t('layout.stage')}>
        {large.map((c) => (
          <Tile key={c.key} tile={c} {...tileProps(props, stage, c)} />
        ))}
      </div>
      <Filmstrip count={strip.length}>
        {strip.map((c) => (
          <Tile key={c.key} tile={c} {...tileProps(props, stage, c)} />
        ))}
      </Filmstrip>
    </div>
  );
}

export function Layout(props: LayoutProps): JSX.Element {
  const { call } = props;
  useChanges(call.stage.subscribe);
  useHiddenReport(call.view);
  const stage = call.stage.state;
  return props.mode === 'speaker' ? <SpeakerView {...props} stage={stage} /> : <TileView {...props} stage={stage} />;
}
