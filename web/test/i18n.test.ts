import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectLang, LANGS, MESSAGES, placeholders, t, type Key } from '../src/i18n';

const keys = Object.keys(MESSAGES.en) as Key[];

test('every language has every key, non-empty', () => {
  for (const lang of LANGS) {
    const msgs = MESSAGES[lang];
    assert.deepEqual(Object.keys(msgs).sort(), [...keys].sort(), `keys of ${lang}`);
    for (const k of keys) assert.ok(msgs[k].trim() !== '', `${lang}.${k} is empty`);
  }
});

test('placeholders match across languages', () => {
  for (const k of keys) {
    const want = placeholders(MESSAGES.en[k]);
    for (const lang of LANGS) assert.deepEqual(placeholders(MESSAGES[lang][k]), want, `${lang}.${k}`);
  }
});

test('the German toolbar names differ from the English ones', () => {
  for (const k of ['meeting.mute', 'meeting.leave', 'prejoin.join', 'start.submit'] as Key[]) {
    assert.notEqual(MESSAGES.de[k], MESSAGES.en[k], k);
  }
});

test('t fills placeholders and keeps unknown ones', () => {
  assert.equal(t('meeting.joined', { name: 'Grace' }, 'en'), 'Grace joined');
  assert.equal(t('meeting.joined', { name: 'Grace' }, 'de'), 'Grace ist beigetreten');
  assert.equal(t('meeting.peopleMany', { count: 3 }, 'en'), '3 people');
  assert.equal(t('meeting.joined', undefined, 'en'), '{name} joined');
});

test('detectLang prefers the stored choice, then the browser order', () => {
  assert.equal(detectLang('de', ['en-US']), 'de');
  assert.equal(detectLang(null, ['fr-FR', 'de-AT', 'en']), 'de');
  assert.equal(detectLang(null, ['en-GB', 'de']), 'en');
  assert.equal(detectLang('xx', ['fr']), 'en');
  assert.equal(detectLang(null, []), 'en');
});
