// Measures our own connections every two seconds with getStats, for the
// connection indicator on our own tile (and on the peer's in a direct call,
// which the server does not carry): what we send and receive, the loss and
// round trip the far end reports back.

import { figuresBetween, sampleOf, type LocalFigures, type StatsSample } from '../quality';

export const MEASURE_MS = 2000;

type Report = Record<string, unknown>;

const ids = new WeakMap<RTCPeerConnection, number>();
let nextId = 1;
/** Names a set of connections, so counters are compared only with the same set. */
function setKey(pcs: RTCPeerConnection[]): string {
  return pcs
    .map((pc) => {
      let id = ids.get(pc);
      if (id === undefined) ids.set(pc, (id = nextId++));
      return id;
    })
    .join(',');
}

async function reportsOf(pcs: RTCPeerConnection[]): Promise<Report[]> {
  const out: Report[] = [];
  for (const pc of pcs) {
    if (pc.connectionState === 'closed') continue;
    try {
      (await pc.getStats()).forEach((r: Report) => out.push(r));
    } catch {
      // A connection closing meanwhile: nothing to count.
    }
  }
  return out;
}

export interface MeasureSource {
  /** Every connection that carries our media now (server and direct). */
  own(): RTCPeerConnection[];
  /** The direct connection of a call for two, if any. */
  direct(): RTCPeerConnection | null;
}

/** Starts measuring; returns a function that stops it. */
export function startMeasuring(src: MeasureSource, report: (local: LocalFigures | null, direct: LocalFigures | null) => void): () => void {
  let own: StatsSample | null = null;
  let direct: StatsSample | null = null;
  let directPc: RTCPeerConnection | null = null;
  let ownKey = '';
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const now = performance.now();
      const pcs = src.own();
      // Another set of connections restarts the counters: no rate across that.
      const key = setKey(pcs);
      const ownNow = sampleOf(await reportsOf(pcs), now);
      const ownFig = pcs.length ? figuresBetween(key === ownKey ? own : null, ownNow) : null;
      own = ownNow;
      ownKey = key;
      const d = src.direct();
      let directFig: LocalFigures | null = null;
      if (d) {
        const dNow = sampleOf(await reportsOf([d]), now);
        directFig = figuresBetween(d === directPc ? direct : null, dNow);
        direct = dNow;
      } else direct = null;
      directPc = d;
      report(ownFig, directFig);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), MEASURE_MS);
  void tick();
  return () => clearInterval(timer);
}
