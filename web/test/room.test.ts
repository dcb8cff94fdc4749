import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audioTracks, gridColumns, initialState, reduce, RoomStore, tiles, type RoomEvent, type RoomState } from '../src/room';

type S = RoomState<string>;
const grace = { id: 'g', name: 'Grace', audio: true, video: true, screen: false };
const alan = { id: 'a', name: 'Alan', audio: false, video: false, screen: false };

function run(events: RoomEvent<string>[]): S {
  return events.reduce((s, e) => reduce(s, e), initialState<string>('room', { name: 'Ada', audio: true, video: true }));
}

test('joined lists the others, not ourselves', () => {
  const s = run([{ type: 'joined', id: 'me', room: 'room', participants: [grace, { ...grace, id: 'me', name: 'Ada' }] }]);
  assert.equal(s.selfId, 'me');
  assert.deepEqual(s.others.map((p) => p.id), ['g']);
  const { cameras } = tiles(s);
  assert.deepEqual(cameras.map((c) => [c.name, c.self]), [['Ada', true], ['Grace', false]]);
});

test('join, update, leave', () => {
  let s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [] },
    { type: 'participant.joined', participant: grace },
    { type: 'participant.joined', participant: alan },
    { type: 'participant.updated', participant: { ...grace, audio: false } },
  ]);
  assert.deepEqual(s.others.map((p) => [p.id, p.audio]), [['g', false], ['a', false]]);
  s = reduce(s, { type: 'participant.left', id: 'g' });
  assert.deepEqual(s.others.map((p) => p.id), ['a']);
  // An update for someone unknown adds them (messages may race).
  s = reduce(s, { type: 'participant.updated', participant: grace });
  assert.deepEqual(s.others.map((p) => p.id), ['a', 'g']);
});

test('tracks map by mid; a mid missing from the next offer is gone', () => {
  let s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [grace] },
    {
      type: 'remote',
      remote: [
        { mid: '0', participant: 'g', source: 'microphone', kind: 'audio' },
        { mid: '1', participant: 'g', source: 'camera', kind: 'video' },
      ],
      tracks: { '0': 'g-mic', '1': 'g-cam', '7': 'stale' },
    },
  ]);
  assert.deepEqual(s.tracks, { '0': 'g-mic', '1': 'g-cam' });
  let t = tiles(s);
  assert.equal(t.cameras[1]?.track, 'g-cam');
  assert.equal(t.cameras[1]?.video, true);
  assert.deepEqual(audioTracks(s), [{ mid: '0', participant: 'g', track: 'g-mic' }]);

  s = reduce(s, { type: 'remote', remote: [{ mid: '0', participant: 'g', source: 'microphone', kind: 'audio' }], tracks: { '0': 'g-mic' } });
  t = tiles(s);
  assert.equal(t.cameras[1]?.track, undefined);
  assert.equal(t.cameras[1]?.video, false, 'no track: avatar');
});

test('screens get their own tile and go when stopped', () => {
  let s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [grace] },
    { type: 'participant.updated', participant: { ...grace, screen: true } },
    {
      type: 'remote',
      remote: [
        { mid: '1', participant: 'g', source: 'camera', kind: 'video' },
        { mid: '2', participant: 'g', source: 'screen', kind: 'video' },
      ],
      tracks: { '1': 'cam', '2': 'scr' },
    },
  ]);
  let t = tiles(s);
  assert.deepEqual(t.screens.map((x) => [x.key, x.kind, x.track, x.name]), [['g-screen', 'screen', 'scr', 'Grace']]);
  // participant.updated with screen:false removes it before the next offer.
  s = reduce(s, { type: 'participant.updated', participant: { ...grace, screen: false } });
  t = tiles(s);
  assert.equal(t.screens.length, 0);
  assert.equal(t.cameras[1]?.track, 'cam');
});

test('our own screen is a stage tile', () => {
  const s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [] },
    { type: 'selfScreen', sharing: true },
  ]);
  const t = tiles(s);
  assert.equal(t.screens.length, 1);
  assert.equal(t.screens[0]?.self, true);
});

test('speaking highlights the latest set, and only unmuted people', () => {
  let s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [grace, alan] },
    { type: 'speaking', ids: ['g', 'a'] },
  ]);
  let t = tiles(s);
  assert.deepEqual(t.cameras.map((c) => c.speaking), [false, true, false]);
  s = reduce(s, { type: 'speaking', ids: [] });
  s = reduce(s, { type: 'selfSpeaking', speaking: true });
  t = tiles(s);
  assert.deepEqual(t.cameras.map((c) => c.speaking), [true, false, false]);
  s = reduce(s, { type: 'self', patch: { audio: false } });
  assert.equal(tiles(s).cameras[0]?.speaking, false);
});

test('store tells listeners only on change', () => {
  const store = new RoomStore(initialState<string>('r', { name: 'Ada', audio: true, video: false }));
  let calls = 0;
  const off = store.subscribe(() => calls++);
  store.dispatch({ type: 'selfSpeaking', speaking: false });
  assert.equal(calls, 0);
  store.dispatch({ type: 'selfSpeaking', speaking: true });
  assert.equal(calls, 1);
  off();
  store.dispatch({ type: 'selfSpeaking', speaking: false });
  assert.equal(calls, 1);
});

test('grid columns fit the box', () => {
  assert.equal(gridColumns(1, 1000, 600), 1);
  assert.equal(gridColumns(2, 1300, 600), 2);
  assert.equal(gridColumns(3, 1300, 600), 2);
  assert.equal(gridColumns(4, 1300, 600), 2);
  assert.equal(gridColumns(3, 390, 700), 1);
  assert.equal(gridColumns(9, 1300, 700), 3);
  assert.equal(gridColumns(0, 100, 100), 1);
});

test('role, settings and lobby knocks', () => {
  let s = run([
    { type: 'joined', id: 'me', room: 'room', participants: [grace], role: 'moderator', settings: { password: true, lobby: false } },
  ]);
  assert.equal(s.self.role, 'moderator');
  assert.deepEqual(s.settings, { password: true, lobby: false });
  s = reduce(s, { type: 'lobby.knock', participant: { id: 'e', name: 'Eve' } });
  s = reduce(s, { type: 'lobby.knock', participant: { id: 'e', name: 'Eve' } });
  s = reduce(s, { type: 'lobby.knock', participant: { id: 'f', name: 'Frank' } });
  assert.deepEqual(s.knocks.map((k) => k.id), ['e', 'f']);
  s = reduce(s, { type: 'lobby.gone', id: 'e' });
  assert.deepEqual(s.knocks.map((k) => k.id), ['f']);
  s = reduce(s, { type: 'room.settings', settings: { password: false, lobby: true } });
  assert.deepEqual(s.settings, { password: false, lobby: true });
  // Losing the moderator role hides the lobby.
  s = reduce(s, { type: 'participant.updated', participant: { id: 'me', name: 'Ada', audio: true, video: true, screen: false, role: 'participant' } });
  assert.equal(s.self.role, 'participant');
  assert.deepEqual(s.knocks, []);
});
