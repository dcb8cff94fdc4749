import assert from 'node:assert/strict';
import { test } from 'node:test';
import { t } from '../src/i18n';
import { parseServerMessage } from '../src/signal';
import { initialStage, isForwarded } from '../src/stage';
import { bars, combine, figuresBetween, formatLoss, formatRate, formatRtt, fromServer, levelOf, sampleOf, worse } from '../src/quality';

const server = { id: 'me', level: 'good' as const, sendKbps: 1650, recvKbps: 2100, loss: 0.004, rtt: 38, bandwidthKbps: 3500 };

test('levels follow the thresholds of docs/protocol.md', () => {
  assert.equal(levelOf(0, 20), 'good');
  assert.equal(levelOf(0.03, 200), 'good', 'the limits themselves are still good');
  assert.equal(levelOf(0.031, 0), 'fair');
  assert.equal(levelOf(0, 201), 'fair');
  assert.equal(levelOf(0.11, 0), 'poor');
  assert.equal(levelOf(0, 401), 'poor');
  assert.equal(levelOf(null, null), 'unknown');
  assert.equal(worse('good', 'poor'), 'poor');
  assert.equal(worse('unknown', 'fair'), 'fair');
  assert.deepEqual(['good', 'fair', 'poor', 'unknown'].map((l) => bars(l as 'good')), [3, 2, 1, 0]);
});

test('the indicator names the level in English and German', () => {
  assert.equal(t('quality.label', { level: t('quality.good', undefined, 'en') }, 'en'), 'Connection: good');
  assert.equal(t('quality.label', { level: t('quality.good', undefined, 'de') }, 'de'), 'Verbindung: gut');
  assert.equal(t('quality.label', { level: t('quality.poor', undefined, 'de') }, 'de'), 'Verbindung: schlecht');
});

test('figures are shown in the reader\'s language', () => {
  assert.equal(formatRate(1650, 'en'), '1.7 Mbit/s');
  assert.equal(formatRate(1650, 'de'), '1,7 Mbit/s');
  assert.equal(formatRate(349.6, 'en'), '350 kbit/s');
  assert.equal(formatRate(null, 'en'), null);
  assert.equal(formatLoss(0.004, 'en'), '0.4 %');
  assert.equal(formatLoss(0.004, 'de'), '0,4 %');
  assert.equal(formatLoss(0.25, 'en'), '25 %');
  assert.equal(formatRtt(38.4, 'en'), '38 ms');
});

test('a remote tile shows the server\'s figures; an unknown round trip is not 0 ms', () => {
  assert.deepEqual(fromServer(server), { level: 'good', sendKbps: 1650, recvKbps: 2100, loss: 0.004, rtt: 38 });
  assert.equal(fromServer({ ...server, rtt: 0 }).rtt, null);
  assert.equal(fromServer(undefined).level, 'unknown');
});

test('our own tile combines the server\'s figures with what the browser measures', () => {
  // The browser's own rates and round trip win; loss is the worse; the level the worse.
  const c = combine(server, { sendKbps: 1400, recvKbps: null, loss: 0.05, rtt: 60 });
  assert.deepEqual(c, { level: 'fair', sendKbps: 1400, recvKbps: 2100, loss: 0.05, rtt: 60 });
  // The server says poor: it stays poor whatever we measure.
  assert.equal(combine({ ...server, level: 'poor' }, { sendKbps: 1400, recvKbps: 800, loss: 0, rtt: 30 }).level, 'poor');
  // No server figures yet (or a direct call): our measurements alone.
  assert.deepEqual(combine(undefined, { sendKbps: 900, recvKbps: 700, loss: null, rtt: null }), {
    level: 'good',
    sendKbps: 900,
    recvKbps: 700,
    loss: null,
    rtt: null,
  });
  assert.equal(combine(undefined, null).level, 'unknown');
});

test('getStats counters become rates, loss and round trip', () => {
  const a = sampleOf(
    [
      { type: 'outbound-rtp', kind: 'video', bytesSent: 100_000 },
      { type: 'outbound-rtp', kind: 'video', bytesSent: 50_000 },
      { type: 'inbound-rtp', kind: 'audio', bytesReceived: 20_000, packetsReceived: 1000, packetsLost: 0 },
      { type: 'remote-inbound-rtp', roundTripTime: 0.04, fractionLost: 0.01 },
      { type: 'remote-inbound-rtp', roundTripTime: 0.05, fractionLost: 0 },
    ],
    1000,
  );
  assert.equal(a.bytesSent, 150_000);
  assert.equal(a.rtt, 50);
  assert.equal(a.remoteLoss, 0.01);
  const b = sampleOf(
    [
      { type: 'outbound-rtp', bytesSent: 400_000 },
      { type: 'inbound-rtp', bytesReceived: 70_000, packetsReceived: 1900, packetsLost: 100 },
      { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.03 },
    ],
    3000,
  );
  assert.equal(b.rtt, 30, 'no remote-inbound-rtp: the candidate pair');
  const f = figuresBetween(a, b);
  assert.equal(f.sendKbps, 1000, '250 kB in 2 s');
  assert.equal(f.recvKbps, 200);
  assert.equal(f.loss, 0.1, '100 lost of 1000');
  assert.equal(f.rtt, 30);
  // The first sample has no rate yet; a restarted connection gives none either.
  assert.equal(figuresBetween(null, b).sendKbps, null);
  assert.equal(figuresBetween(b, { ...a, at: 5000 }).sendKbps, null);
});

test('forwarded, dominant and quality parse as docs/protocol.md shows them', () => {
  assert.deepEqual(parseServerMessage('{"type":"forwarded","videos":[{"participant":"p8Hc1xZ","source":"camera","layer":2,"width":1280,"height":720}]}'), {
    type: 'forwarded',
    videos: [{ participant: 'p8Hc1xZ', source: 'camera', layer: 2, width: 1280, height: 720 }],
  });
  assert.deepEqual(parseServerMessage('{"type":"forwarded","videos":[{"participant":"a","source":"camera","layer":0},{"participant":"b","source":"hologram"}]}'), {
    type: 'forwarded',
    videos: [{ participant: 'a', source: 'camera', layer: 0 }],
  });
  assert.deepEqual(parseServerMessage('{"type":"dominant","id":"p8Hc1xZ"}'), { type: 'dominant', id: 'p8Hc1xZ' });
  assert.deepEqual(
    parseServerMessage('{"type":"quality","participants":[{"id":"p8Hc1xZ","level":"good","sendKbps":1650,"recvKbps":2100,"loss":0.004,"rtt":38,"bandwidthKbps":3500}]}'),
    { type: 'quality', participants: [{ id: 'p8Hc1xZ', level: 'good', sendKbps: 1650, recvKbps: 2100, loss: 0.004, rtt: 38, bandwidthKbps: 3500 }] },
  );
  assert.equal(parseServerMessage('{"type":"dominant"}'), null);
  assert.equal(parseServerMessage('{"type":"quality"}'), null);
});

test('before the first forwarded every video counts as sent', () => {
  const s = initialStage();
  assert.ok(isForwarded(s, 'a', 'camera'));
  const f = { ...s, forwarded: [{ participant: 'a', source: 'camera' as const, layer: 0 }] };
  assert.ok(isForwarded(f, 'a', 'camera'));
  assert.ok(!isForwarded(f, 'a', 'screen'));
  assert.ok(!isForwarded(f, 'b', 'camera'));
});
