import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endingFromClose } from '../src/call';
import { parseServerMessage, RateLimiter, socketURL } from '../src/signal';

test('parses the examples of docs/protocol.md', () => {
  const joined = parseServerMessage(
    '{"type":"joined","id":"p3F9kq2","room":"amber-falcon-quiet-river-stone-4821","role":"participant","settings":{"password":false,"lobby":true},"iceServers":[],"participants":[{"id":"p8Hc1xZ","name":"Grace","audio":true,"video":true,"screen":false,"role":"moderator","publicKey":"BGx0","hasKey":true}]}',
  );
  assert.deepEqual(joined, {
    type: 'joined',
    id: 'p3F9kq2',
    room: 'amber-falcon-quiet-river-stone-4821',
    role: 'participant',
    settings: { password: false, lobby: true },
    iceServers: [],
    participants: [{ id: 'p8Hc1xZ', name: 'Grace', audio: true, video: true, screen: false, role: 'moderator', publicKey: 'BGx0', hasKey: true }],
  });
  // Without the new fields (an older server): participant, no key, no settings.
  const old = parseServerMessage('{"type":"joined","id":"a","participants":[{"id":"b","name":"B"}]}');
  assert.ok(old && old.type === 'joined');
  assert.equal(old.role, 'participant');
  assert.deepEqual(old.settings, { password: false, lobby: false });
  assert.deepEqual(old.participants[0], { id: 'b', name: 'B', audio: false, video: false, screen: false, role: 'participant', hasKey: false });
  assert.deepEqual(
    parseServerMessage('{"type":"subscribe.offer","sdp":"v=0","tracks":[{"mid":"0","participant":"p8Hc1xZ","source":"microphone","kind":"audio"}]}'),
    { type: 'subscribe.offer', sdp: 'v=0', tracks: [{ mid: '0', participant: 'p8Hc1xZ', source: 'microphone', kind: 'audio' }] },
  );
  assert.deepEqual(parseServerMessage('{"type":"participant.left","id":"x"}'), { type: 'participant.left', id: 'x' });
  assert.deepEqual(parseServerMessage('{"type":"speaking","ids":["a"]}'), { type: 'speaking', ids: ['a'] });
  assert.deepEqual(parseServerMessage('{"type":"error","code":"room_full","message":"full"}'), {
    type: 'error',
    code: 'room_full',
    message: 'full',
  });
  assert.deepEqual(parseServerMessage('{"type":"publish.answer","sdp":"v=0","extra":1}'), { type: 'publish.answer', sdp: 'v=0' });
});

test('parses the chat, lobby, moderation and error messages of docs/protocol.md', () => {
  const cases: [string, unknown][] = [
    ['{"type":"lobby.waiting"}', { type: 'lobby.waiting' }],
    ['{"type":"lobby.waiting","reason":"password"}', { type: 'lobby.waiting', reason: 'password' }],
    ['{"type":"lobby.waiting","reason":"from the future"}', { type: 'lobby.waiting' }],
    ['{"type":"lobby.knock","participant":{"id":"pW41","name":"Eve"}}', { type: 'lobby.knock', participant: { id: 'pW41', name: 'Eve' } }],
    [
      '{"type":"lobby.knock","participant":{"id":"pW41","name":"Eve","reason":"removed"}}',
      { type: 'lobby.knock', participant: { id: 'pW41', name: 'Eve', reason: 'removed' } },
    ],
    ['{"type":"lobby.gone","id":"pW41"}', { type: 'lobby.gone', id: 'pW41' }],
    ['{"type":"room.settings","settings":{"password":true,"lobby":false}}', { type: 'room.settings', settings: { password: true, lobby: false } }],
    ['{"type":"muted","kind":"audio","by":"p8Hc1xZ"}', { type: 'muted', kind: 'audio', by: 'p8Hc1xZ' }],
    ['{"type":"chat","from":"p8Hc1xZ","to":"p3F9kq2","data":"q83v"}', { type: 'chat', from: 'p8Hc1xZ', to: 'p3F9kq2', data: 'q83v' }],
    ['{"type":"chat","from":"p8Hc1xZ","data":"q83v"}', { type: 'chat', from: 'p8Hc1xZ', data: 'q83v' }],
    ['{"type":"relay","from":"p8Hc1xZ","data":"{}"}', { type: 'relay', from: 'p8Hc1xZ', data: '{}' }],
    [
      '{"type":"error","code":"too_many_attempts","message":"too many password attempts","retryAfter":12}',
      { type: 'error', code: 'too_many_attempts', message: 'too many password attempts', retryAfter: 12 },
    ],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseServerMessage(text), want, text);
  for (const bad of ['{"type":"muted","kind":"screen"}', '{"type":"chat","data":"x"}', '{"type":"relay","from":"a"}', '{"type":"lobby.knock","participant":{"id":"x"}}']) {
    assert.equal(parseServerMessage(bad), null, bad);
  }
});

test('rejects what it does not understand', () => {
  for (const bad of ['', 'nope', '[]', '{}', '{"type":"what"}', '{"type":"joined"}', '{"type":"publish.answer"}', '{"type":"speaking","ids":[1]}']) {
    assert.equal(parseServerMessage(bad), null, bad);
  }
});

test('rate limiter allows the burst, then spaces messages out', () => {
  const rl = new RateLimiter(20, 60, 0);
  for (let i = 0; i < 60; i++) assert.equal(rl.take(0), 0);
  assert.equal(rl.take(0), 50);
  assert.equal(rl.take(0), 100);
  const later = new RateLimiter(20, 60, 0);
  for (let i = 0; i < 60; i++) later.take(0);
  assert.equal(later.take(1000), 0, 'refilled after a second');
});

test('socket URL follows the page scheme', () => {
  assert.equal(socketURL({ protocol: 'https:', host: 'meet.example:8443' }), 'wss://meet.example:8443/ws');
  assert.equal(socketURL({ protocol: 'http:', host: '127.0.0.1:4000' }), 'ws://127.0.0.1:4000/ws');
});

test('close reasons become endings', () => {
  assert.deepEqual(endingFromClose({ code: 1000, reason: '', byUs: true, neverOpened: false }, null), { kind: 'left' });
  assert.equal(endingFromClose({ code: 1006, reason: '', byUs: false, neverOpened: true }, null).kind, 'unreachable');
  const full = endingFromClose({ code: 4000, reason: 'room_full: meeting is full', byUs: false, neverOpened: false }, null);
  assert.equal(full.kind, 'error');
  assert.equal(full.message, 'error.room_full');
  assert.equal(full.reason, 'room_full: meeting is full');
  assert.equal(endingFromClose({ code: 4000, reason: 'odd', byUs: false, neverOpened: false }, null).message, 'error.other');
  assert.equal(endingFromClose({ code: 1006, reason: '', byUs: false, neverOpened: false }, null).kind, 'lost');
});

test('removed, denied and ended become their own endings', () => {
  const closed = { code: 4001, reason: 'removed', byUs: false, neverOpened: false };
  assert.deepEqual(endingFromClose(closed, 'removed'), { kind: 'error', title: 'left.removedTitle', message: 'left.removed' });
  assert.deepEqual(endingFromClose(closed, 'denied'), { kind: 'error', title: 'left.notJoined', message: 'left.denied' });
  assert.deepEqual(endingFromClose(closed, 'ended'), { kind: 'error', title: 'left.endedTitle', message: 'left.ended' });
  assert.deepEqual(endingFromClose(closed, 'ended', true), { kind: 'left', title: 'left.endedTitle', message: 'left.youEnded' });
  assert.equal(endingFromClose(closed, null).message, 'left.removedOrEnded');
});
