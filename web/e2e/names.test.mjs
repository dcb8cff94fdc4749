// Names that could deceive, through the UI: a right-to-left name and a long
// one are shown isolated (<bdi>) wherever they appear (tiles, the people
// list, notices, chat), so they cannot reorder the text around them; names
// made of invisible characters and look-alike meeting names are refused
// with an explanation. Screenshots at desktop and phone size go to
// e2e/screenshots/names-*.png.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, joinMeeting, launchBrowser, newPerson, PHONE, removeNetns, shot, startServer } from './harness.mjs';

let server;
let browser;
const room = `names-${Date.now().toString(36)}`;
// "Ada Lovelace" in Arabic, with a digit at the end (a digit next to
// right-to-left text is where reordering shows first), and a long name.
const rtl = 'آدا لوفليس 2';
const long = 'Maximiliane Friederike Wilhelmine von Hohenzollern-Sigmaringen';

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeNetns();
});

/**
 * Every text node on the page that holds one of names must sit in a
 * <bdi class="name">, or be an <option> that holds the name alone; returns
 * the places where a name is not isolated.
 */
function unisolated(page, names) {
  return page.evaluate((names) => {
    const bad = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.textContent ?? '';
      if (!names.some((name) => text.includes(name))) continue;
      const el = n.parentElement;
      if (el?.closest('bdi.name')) continue;
      if (el?.tagName === 'OPTION' && names.includes(text.trim())) continue;
      if (el?.closest('.visually-hidden, [hidden]')) continue;
      bad.push(`${el?.tagName.toLowerCase()}.${el?.className}: ${text.slice(0, 80)}`);
    }
    return bad;
  }, names);
}

test('a right-to-left and a long name are isolated wherever they are shown', async () => {
  const a = await newPerson(browser, server.url);
  const b = await newPerson(browser, server.url);
  await joinMeeting(a.page, server.url, room, rtl);
  await a.page.getByRole('figure', { name: `${rtl} (you)`, exact: true }).waitFor();
  await joinMeeting(b.page, server.url, room, long);
  await b.page.getByRole('figure', { name: `${long} (you)`, exact: true }).waitFor();
  await a.page.getByRole('figure', { name: long, exact: true }).waitFor();
  await b.page.getByRole('figure', { name: rtl, exact: true }).waitFor();
  // The notice "<long> joined" on the first page.
  await a.page.locator('.notice bdi.name', { hasText: long }).waitFor();

  // Chat both ways, so the sender's name shows in each list.
  for (const [from, text] of [
    [a, 'مرحبا'],
    [b, 'Hallo zusammen'],
  ]) {
    await from.page.getByRole('button', { name: 'Open chat' }).click();
    await from.page.getByLabel('Message').fill(text);
    await from.page.getByLabel('Message').press('Enter');
  }
  await a.page.locator('.msg-from bdi.name', { hasText: long }).waitFor();
  await b.page.locator('.msg-from bdi.name', { hasText: rtl }).waitFor();

  for (const [p, label] of [
    [a, 'rtl'],
    [b, 'long'],
  ]) {
    await p.page.waitForTimeout(500);
    await shot(p.page, `names-chat-${label}-desktop`);
    await p.page.getByRole('button', { name: 'Participants' }).click();
    await p.page.locator('#people-panel').waitFor();
    assert.deepEqual(await unisolated(p.page, [rtl, long]), [], `${label}: every name isolated (people and chat)`);
    await shot(p.page, `names-people-${label}-desktop`);
    await p.page.setViewportSize(PHONE);
    await p.page.waitForTimeout(500);
    await shot(p.page, `names-people-${label}-phone`);
    await p.page.locator('#people-panel').getByRole('button', { name: 'Close' }).click();
    await p.page.waitForTimeout(300);
    await shot(p.page, `names-tiles-${label}-phone`);
    await p.page.setViewportSize(DESKTOP);
    await p.page.waitForTimeout(300);
    await shot(p.page, `names-tiles-${label}-desktop`);
    assert.deepEqual(await unisolated(p.page, [rtl, long]), [], `${label}: every name isolated (tiles)`);
  }
  for (const p of [a, b]) {
    assert.deepEqual(p.errors, [], 'no errors on the page');
    await p.context.close();
  }
});

test('invisible names and look-alike meeting names are refused with an explanation', async () => {
  const p = await newPerson(browser, server.url);
  await p.page.goto(`${server.url}/${room}`);
  for (const name of ['\u200b\u200b\u200b', '\u3164', 'Ada\u202e']) {
    await p.page.getByLabel('Your name').fill(name);
    await p.page.getByRole('button', { name: 'Join meeting' }).click();
    await p.page.getByText('A name cannot contain invisible or control characters', { exact: false }).waitFor();
  }
  // A Cyrillic "а" among Latin letters.
  await p.page.goto(`${server.url}/te%D0%B0m-meeting`);
  await p.page.getByText('cannot mix Latin, Cyrillic and Greek letters', { exact: false }).waitFor();
  // Fullwidth letters are the plain meeting: the address shows its one spelling.
  await p.page.goto(`${server.url}/%EF%BC%B4%EF%BC%A5%EF%BC%A1%EF%BC%AD-plan`);
  await p.page.getByLabel('Your name').waitFor();
  assert.equal(new URL(p.page.url()).pathname, '/team-plan');
  assert.deepEqual(p.errors, []);
  await p.context.close();
});
