import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AVATAR_COLOURS, checkDisplayName, checkMeetingName, colourIndex, initials, meetingFromPath } from '../src/names';

test('meeting names', () => {
  const cases: [string, string][] = [
    ['amber-falcon-quiet-river-stone-4821', 'ok'],
    ['Amber-Falcon', 'ok'],
    ['  team_1  ', 'ok'],
    ['käsekuchen', 'ok'],
    ['会議室の部屋', 'ok'],
    ['123', 'ok'],
    ['', 'empty'],
    ['   ', 'empty'],
    ['ab', 'short'],
    ['a'.repeat(64), 'ok'],
    ['a'.repeat(65), 'long'],
    ['-abc', 'start'],
    ['_abc', 'start'],
    ['has space', 'chars'],
    ['a!b', 'chars'],
    ['a/b', 'chars'],
    ['a.b', 'chars'],
    ['api', 'reserved'],
    ['Assets', 'reserved'],
    ['healthz', 'reserved'],
    ['ws', 'short'],
  ];
  for (const [input, want] of cases) {
    const got = checkMeetingName(input);
    assert.equal(got.ok ? 'ok' : got.problem, want, JSON.stringify(input));
  }
  const r = checkMeetingName(' Amber-Falcon ');
  assert.ok(r.ok && r.value === 'amber-falcon');
});

test('meeting name length counts code points', () => {
  // 64 astral-plane letters are 128 UTF-16 units but 64 characters.
  const ok = checkMeetingName('𐐨'.repeat(64));
  assert.ok(ok.ok, 'astral letters count once each');
});

test('display names', () => {
  assert.deepEqual(checkDisplayName('  Ada  '), { ok: true, value: 'Ada' });
  assert.deepEqual(checkDisplayName('   '), { ok: false, problem: 'empty' });
  assert.deepEqual(checkDisplayName('x'.repeat(65)), { ok: false, problem: 'long' });
  assert.deepEqual(checkDisplayName('x'.repeat(64)).ok, true);
  assert.deepEqual(checkDisplayName('a\u0007b'), { ok: false, problem: 'control' });
  assert.deepEqual(checkDisplayName('a\nb'), { ok: false, problem: 'control' });
  assert.deepEqual(checkDisplayName('Zoë 🎉').ok, true);
});

test('meeting from path', () => {
  assert.equal(meetingFromPath('/'), null);
  assert.equal(meetingFromPath(''), null);
  assert.equal(meetingFromPath('/abc'), 'abc');
  assert.equal(meetingFromPath('/k%C3%A4se'), 'käse');
  assert.equal(meetingFromPath('/%E0%A4%A'), '%E0%A4%A');
});

test('initials and colours', () => {
  assert.equal(initials('Grace Hopper'), 'GH');
  assert.equal(initials('ada'), 'A');
  assert.equal(initials('Jean Luc Picard'), 'JP');
  assert.equal(initials('  '), '?');
  assert.equal(initials('😀 smile'), '😀S');
  for (const id of ['a', 'p8Hc1xZ', 'p3F9kq2', '']) {
    const c = colourIndex(id);
    assert.ok(c >= 0 && c < AVATAR_COLOURS && Number.isInteger(c));
  }
  assert.equal(colourIndex('p8Hc1xZ'), colourIndex('p8Hc1xZ'));
});
