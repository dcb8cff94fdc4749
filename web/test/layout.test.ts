import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clampPage, initialMode, nextMode, pageCount, pageItems, pageSize, PAGE_SIZE, PHONE_PAGE_SIZE, pickSpeaker, type ModeState } from '../src/layout';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('tile view pages nine remote tiles at a time, fewer on a phone', () => {
  assert.equal(pageSize(1280, 640), PAGE_SIZE);
  assert.equal(PAGE_SIZE, 9);
  assert.equal(pageSize(390, 650), PHONE_PAGE_SIZE);
  assert.ok(PHONE_PAGE_SIZE < PAGE_SIZE);
  // Before the first measurement: the desktop size, not a flash of phone pages.
  assert.equal(pageSize(0, 0), PAGE_SIZE);
  assert.equal(pageSize(900, 400), PHONE_PAGE_SIZE, 'a phone held sideways');
});

test('page count and the items of each page', () => {
  assert.equal(pageCount(0, 9), 1);
  assert.equal(pageCount(9, 9), 1);
  assert.equal(pageCount(10, 9), 2);
  assert.equal(pageCount(25, 9), 3);
  const items = range(25);
  assert.deepEqual(pageItems(items, 0, 9), range(9));
  assert.deepEqual(pageItems(items, 1, 9), range(9).map((i) => i + 9));
  assert.deepEqual(pageItems(items, 2, 9), [18, 19, 20, 21, 22, 23, 24]);
  // Every item is on exactly one page.
  const all = range(pageCount(25, 9)).flatMap((p) => pageItems(items, p, 9));
  assert.deepEqual(all, items);
});

test('the page stays in range when people leave', () => {
  assert.equal(clampPage(2, 25, 9), 2);
  assert.equal(clampPage(2, 12, 9), 1, 'the third page is gone: the last one');
  assert.equal(clampPage(5, 3, 9), 0);
  assert.equal(clampPage(-1, 30, 9), 0);
  assert.deepEqual(pageItems(range(12), 7, 9), [9, 10, 11]);
});

const cams = [
  { key: 'self', participant: 'me', self: true },
  { key: 'a', participant: 'a', self: false },
  { key: 'b', participant: 'b', self: false },
];

test('speaker view shows the dominant speaker, else the one before, never ourselves unless alone', () => {
  assert.equal(pickSpeaker(cams, 'b', null), 'b');
  assert.equal(pickSpeaker(cams, 'me', 'b'), 'b', 'we are dominant: keep the one shown');
  assert.equal(pickSpeaker(cams, null, 'b'), 'b');
  assert.equal(pickSpeaker(cams, 'gone', null), 'a', 'unknown dominant: the first of the others');
  assert.equal(pickSpeaker(cams, null, 'gone'), 'a');
  assert.equal(pickSpeaker([cams[0]!], 'me', null), 'me', 'alone: ourselves');
  assert.equal(pickSpeaker([], null, null), null);
});

test('a screen share switches to speaker view and back; a choice by hand stays', () => {
  let s: ModeState = initialMode;
  assert.equal(s.mode, 'tiles');
  s = nextMode(s, { type: 'screens', before: 0, now: 1 });
  assert.deepEqual(s, { mode: 'speaker', auto: true });
  s = nextMode(s, { type: 'screens', before: 1, now: 2 });
  assert.equal(s.mode, 'speaker');
  s = nextMode(s, { type: 'screens', before: 2, now: 0 });
  assert.deepEqual(s, { mode: 'tiles', auto: false }, 'the automatic switch goes back');

  // Chosen by hand during a share: kept after it ends.
  s = nextMode(initialMode, { type: 'screens', before: 0, now: 1 });
  s = nextMode(s, { type: 'toggle' });
  assert.equal(s.mode, 'tiles');
  s = nextMode(s, { type: 'toggle' });
  s = nextMode(s, { type: 'screens', before: 1, now: 0 });
  assert.equal(s.mode, 'speaker');

  // Already in speaker view by hand: a share changes nothing, its end neither.
  s = nextMode(initialMode, { type: 'toggle' });
  s = nextMode(s, { type: 'screens', before: 0, now: 1 });
  s = nextMode(s, { type: 'screens', before: 1, now: 0 });
  assert.deepEqual(s, { mode: 'speaker', auto: false });
});
