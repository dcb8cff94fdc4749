import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AVATAR_COLOURS, checkDisplayName, checkMeetingName, colourIndex, initials, isolate, meetingFromPath } from '../src/names';
// The server's answers for the same inputs (internal/names reads this file too).
import cases from '../../internal/names/testdata/name-cases.json';

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

test('look-alike meeting names are the same meeting or refused', () => {
  const cases: [string, string][] = [
    ['ＴＥＡＭ-ｍｅｅｔｉｎｇ', 'team-meeting'],
    ['ﬁnance-2026', 'finance-2026'],
    ['Teamtreffen-Mu\u0308ller', 'teamtreffen-müller'],
    ['İstanbul', 'istanbul'],
    ['ΟΔΟΣ', 'οδοσ'],
    ['встреча-2026', 'встреча-2026'],
    ['tokyo-会議', 'tokyo-会議'],
    ['बैठक-2026', 'बैठक-2026'],
    ['te\u0430m-meeting', 'mixed'],
    ['tea\u03bc-meeting', 'mixed'],
    ['5µm-team', 'mixed'],
    ['team\u200b-meeting', 'chars'],
    ['team\u200c-meeting', 'chars'],
    ['team\ufe0f-meeting', 'chars'],
    ['team-\u0301meeting', 'chars'],
    ['te\u0316\u0317\u0318\u0319\u031aam', 'marks'],
    ['ＷＳ', 'short'],
    ['ＡＰＩ', 'reserved'],
  ];
  for (const [input, want] of cases) {
    const got = checkMeetingName(input);
    assert.equal(got.ok ? got.value : got.problem, want, JSON.stringify(input));
  }
});

test('the server and the browser agree on every shared case', () => {
  for (const c of cases as { in: string; meeting: string | null; display: string | null }[]) {
    const m = checkMeetingName(c.in);
    assert.equal(m.ok ? m.value : null, c.meeting, `meeting ${JSON.stringify(c.in)}`);
    const d = checkDisplayName(c.in);
    assert.equal(d.ok ? d.value : null, c.display, `display ${JSON.stringify(c.in)}`);
  }
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

test('display names that deceive are refused, names in every script are not', () => {
  const refused: [string, string][] = [
    ['\u200b\u200b', 'control'],
    ['\u3164', 'control'],
    ['\u2800\u2800', 'control'],
    ['\ufeffAda', 'control'],
    ['Ada\u202e', 'control'],
    ['\u2067Ada\u2069', 'control'],
    ['Ada\u{E0041}', 'control'],
    ['A\u200d', 'control'],
    ['A' + '\u0301'.repeat(63), 'marks'],
    ['x\u0316\u0317\u0318\u0319\u031a', 'marks'],
    ['\u0301Ada', 'marks'],
    ['\u3000', 'empty'],
  ];
  for (const [input, want] of refused) {
    const got = checkDisplayName(input);
    assert.equal(got.ok ? 'ok' : got.problem, want, JSON.stringify(input));
  }
  for (const name of ['محمد', 'דָּוִד', 'श्रीमती', 'نیک\u200cزاد', '👩\u200d💻 Ada', '🏳\ufe0f\u200d🌈', 'Ａｄａ', '·']) {
    assert.ok(checkDisplayName(name).ok, JSON.stringify(name));
  }
  assert.deepEqual(checkDisplayName('Nguye\u0302\u0303n'), { ok: true, value: 'Nguyễn' });
});

test('isolate wraps a name in first-strong isolate marks', () => {
  assert.equal(isolate('אדה'), '\u2068אדה\u2069');
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
