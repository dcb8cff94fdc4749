// Connection quality for the tile indicators: the server's `quality` figures
// for everyone, combined for our own tile (and the peer of a direct call,
// which the server does not carry) with what this browser measures itself
// through getStats. Pure functions; media/quality-sampler reads the stats.

import type { ParticipantQuality, QualityLevel } from './protocol';

/** `unknown`: no figures yet. */
export type ShownLevel = QualityLevel | 'unknown';

/** What one tile's indicator shows. Figures not known are null. */
export interface QualityFigures {
  level: ShownLevel;
  sendKbps: number | null;
  recvKbps: number | null;
  /** 0-1. */
  loss: number | null;
  /** ms. */
  rtt: number | null;
}

/** What this browser measured on its own connections over the last interval. */
export interface LocalFigures {
  sendKbps: number | null;
  recvKbps: number | null;
  loss: number | null;
  rtt: number | null;
}

export const UNKNOWN: QualityFigures = { level: 'unknown', sendKbps: null, recvKbps: null, loss: null, rtt: null };

/** The thresholds of docs/protocol.md: poor over 10 % loss or 400 ms, fair over 3 % or 200 ms. */
export function levelOf(loss: number | null, rtt: number | null): ShownLevel {
  if (loss === null && rtt === null) return 'unknown';
  const l = loss ?? 0;
  const r = rtt ?? 0;
  if (l > 0.1 || r > 400) return 'poor';
  if (l > 0.03 || r > 200) return 'fair';
  return 'good';
}

const RANK: Record<ShownLevel, number> = { unknown: 0, good: 1, fair: 2, poor: 3 };

/** The worse of two levels (a known one wins over unknown). */
export function worse(a: ShownLevel, b: ShownLevel): ShownLevel {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Bars lit in the icon: 3 good, 2 fair, 1 poor, 0 unknown. */
export function bars(level: ShownLevel): number {
  return { good: 3, fair: 2, poor: 1, unknown: 0 }[level];
}

/** A remote participant's figures, from the server alone. */
export function fromServer(q: ParticipantQuality | undefined): QualityFigures {
  if (!q) return UNKNOWN;
  return {
    level: q.level,
    sendKbps: q.sendKbps,
    recvKbps: q.recvKbps,
    loss: q.loss,
    rtt: q.rtt > 0 ? q.rtt : null,
  };
}

const maxOf = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * Our own tile (or a direct peer's): what the browser measures wins for the
 * rates and the round trip (it sees its own sending directly); loss is the
 * worse of both; the level is the worse of the server's and the one the
 * combined figures give.
 */
export function combine(server: ParticipantQuality | undefined, local: LocalFigures | null): QualityFigures {
  const s = fromServer(server);
  if (!local) return s;
  const out: QualityFigures = {
    level: 'unknown',
    sendKbps: local.sendKbps ?? s.sendKbps,
    recvKbps: local.recvKbps ?? s.recvKbps,
    loss: maxOf(local.loss, s.loss),
    rtt: local.rtt ?? s.rtt,
  };
  out.level = worse(s.level, levelOf(out.loss, out.rtt));
  // Sending or receiving with nothing known about loss or delay yet still says the link works.
  if (out.level === 'unknown' && ((out.sendKbps ?? 0) > 0 || (out.recvKbps ?? 0) > 0)) out.level = 'good';
  return out;
}

/** "1.6 Mbit/s", "350 kbit/s". */
export function formatRate(kbps: number | null, lang: string): string | null {
  if (kbps === null) return null;
  const nf = (n: number, digits: number): string => n.toLocaleString(lang, { maximumFractionDigits: digits, minimumFractionDigits: digits });
  return kbps >= 1000 ? `${nf(kbps / 1000, 1)} Mbit/s` : `${nf(Math.round(kbps), 0)} kbit/s`;
}

/** "0.4 %" (German: "0,4 %"). */
export function formatLoss(loss: number | null, lang: string): string | null {
  if (loss === null) return null;
  const pct = loss * 100;
  return `${pct.toLocaleString(lang, { maximumFractionDigits: pct < 10 ? 1 : 0 })} %`;
}

export function formatRtt(rtt: number | null, lang: string): string | null {
  return rtt === null ? null : `${Math.round(rtt).toLocaleString(lang)} ms`;
}

// Reading getStats

/** Counters of one connection at one moment, summed over its RTP streams. */
export interface StatsSample {
  at: number;
  bytesSent: number;
  bytesReceived: number;
  packetsReceived: number;
  packetsLost: number;
  /** From remote-inbound-rtp (what the far end reports of our sending), or the candidate pair. */
  rtt: number | null;
  /** The far end's loss of our packets (remote-inbound-rtp fractionLost, 0-1), the worst stream. */
  remoteLoss: number | null;
}

type Report = Record<string, unknown>;
const n = (r: Report, k: string): number => (typeof r[k] === 'number' && Number.isFinite(r[k]) ? (r[k] as number) : 0);
const has = (r: Report, k: string): boolean => typeof r[k] === 'number' && Number.isFinite(r[k]);

/** Sums one getStats() result (as a list of its reports) into a sample. */
export function sampleOf(reports: Iterable<Report>, at: number): StatsSample {
  const s: StatsSample = { at, bytesSent: 0, bytesReceived: 0, packetsReceived: 0, packetsLost: 0, rtt: null, remoteLoss: null };
  let pairRtt: number | null = null;
  for (const r of reports) {
    if (r.type === 'outbound-rtp') s.bytesSent += n(r, 'bytesSent');
    else if (r.type === 'inbound-rtp') {
      s.bytesReceived += n(r, 'bytesReceived');
      s.packetsReceived += n(r, 'packetsReceived');
      s.packetsLost += Math.max(0, n(r, 'packetsLost'));
    } else if (r.type === 'remote-inbound-rtp') {
      if (has(r, 'roundTripTime')) s.rtt = Math.max(s.rtt ?? 0, n(r, 'roundTripTime') * 1000);
      if (has(r, 'fractionLost')) s.remoteLoss = Math.max(s.remoteLoss ?? 0, n(r, 'fractionLost'));
    } else if (r.type === 'candidate-pair' && r.nominated === true && r.state === 'succeeded' && has(r, 'currentRoundTripTime')) {
      pairRtt = n(r, 'currentRoundTripTime') * 1000;
    }
  }
  if (s.rtt === null) s.rtt = pairRtt;
  return s;
}

/** Figures over the interval between two samples of the same connections. */
export function figuresBetween(before: StatsSample | null, now: StatsSample): LocalFigures {
  const out: LocalFigures = { sendKbps: null, recvKbps: null, loss: now.remoteLoss, rtt: now.rtt };
  if (!before || now.at <= before.at) return out;
  const secs = (now.at - before.at) / 1000;
  const sent = now.bytesSent - before.bytesSent;
  const recv = now.bytesReceived - before.bytesReceived;
  // Counters restart with a new connection: a negative step says nothing.
  if (sent >= 0) out.sendKbps = (sent * 8) / 1000 / secs;
  if (recv >= 0) out.recvKbps = (recv * 8) / 1000 / secs;
  const got = now.packetsReceived - before.packetsReceived;
  const lost = now.packetsLost - before.packetsLost;
  if (got >= 0 && lost >= 0 && got + lost > 0) out.loss = maxOf(out.loss, lost / (got + lost));
  return out;
}
