// The start page, the prejoin screen and the language switch, as a person
// uses them; screenshots of both pages at desktop and phone size.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, joinMeeting, launchBrowser, newPerson, PHONE, removeNetns, shot, startServer, waitForVideo } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeNetns();
});

const NAME = /^[\p{L}\p{N}][\p{L}\p{N}_-]{2,63}$/u;

test('start page suggests a name and starts a meeting with it', async () => {
  const { page, context, foreign, errors } = await newPerson(browser, server.url);
  await page.goto(server.url);
  const box = page.getByLabel('Meeting name');
  await page.waitForFunction(() => document.querySelector('#meeting-name')?.value !== '');
  const first = await box.inputValue();
  assert.match(first, NAME);
  await page.getByRole('button', { name: 'Suggest another name' }).click();
  await page.waitForFunction((f) => document.querySelector('#meeting-name')?.value !== f, first);
  const second = await box.inputValue();
  assert.notEqual(second, first);
  await shot(page, 'start-desktop');
  await page.getByRole('button', { name: 'Start meeting' }).click();
  // The new meeting's key is in the fragment: 16 random bytes, base64url.
  await page.waitForURL((u) => u.pathname === `/${second}`);
  assert.match(new URL(page.url()).hash, /^#k=[A-Za-z0-9_-]{22}$/);
  await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();
  await page.getByRole('button', { name: 'Join meeting' }).waitFor();
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a bad meeting name gets a clear message; a typed good one works', async () => {
  const { page, context } = await newPerson(browser, server.url);
  await page.goto(server.url);
  const box = page.getByLabel('Meeting name');
  await box.fill('a!');
  await page.getByRole('button', { name: 'Start meeting' }).click();
  await page.getByText('Use only letters, digits').waitFor();
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  assert.equal(new URL(page.url()).pathname, '/');
  await box.fill('ab');
  await page.getByText('at least 3 characters').waitFor();
  await box.fill('');
  await page.getByRole('button', { name: 'Start meeting' }).click();
  await page.getByText('Please enter a meeting name.').waitFor();
  await box.fill('Team-Kaffee');
  await page.getByRole('button', { name: 'Start meeting' }).click();
  await page.waitForURL((u) => u.pathname === '/team-kaffee' && u.hash.startsWith('#k='));
  await context.close();
});

test('an invalid meeting link explains and links back to the start', async () => {
  const { page, context } = await newPerson(browser, server.url);
  await page.goto(`${server.url}/no%20spaces%20here`);
  await page.getByRole('heading', { name: 'This meeting link does not work' }).waitFor();
  await page.getByRole('link', { name: 'Back to start' }).click();
  await page.getByRole('button', { name: 'Start meeting' }).waitFor();
  await context.close();
});

test('switching to German translates the page and is remembered', async () => {
  const { page, context } = await newPerson(browser, server.url);
  await page.goto(server.url);
  await page.getByLabel('Language').selectOption('de');
  await page.getByRole('button', { name: 'Meeting starten' }).waitFor();
  await page.getByLabel('Meeting-Name').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
  await page.reload();
  await page.getByRole('button', { name: 'Meeting starten' }).waitFor();
  await page.getByLabel('Sprache').selectOption('en');
  await page.getByRole('button', { name: 'Start meeting' }).waitFor();
  await context.close();
});

test('a German browser gets German, in the meeting too', async () => {
  const { page, context } = await newPerson(browser, server.url, { locale: 'de-DE' });
  await page.goto(`${server.url}/deutsch-test`);
  await page.getByLabel('Dein Name').fill('Lena');
  await page.getByRole('button', { name: 'Meeting beitreten' }).click();
  await page.getByRole('figure', { name: 'Lena (du)', exact: true }).waitFor();
  await page.setViewportSize(PHONE);
  await shot(page, 'meeting-german-phone');
  await page.getByRole('button', { name: 'Mikrofon stummschalten' }).click();
  await page.getByRole('button', { name: 'Stummschaltung aufheben' }).waitFor();
  await page.getByRole('img', { name: 'Mikrofon stummgeschaltet' }).waitFor();
  await page.getByRole('button', { name: 'Meeting verlassen' }).click();
  await page.getByRole('heading', { name: 'Du hast das Meeting verlassen' }).waitFor();
  await context.close();
});

test('prejoin: name is required and remembered, devices toggle, keyboard works', async () => {
  const { page, context } = await newPerson(browser, server.url);
  await page.goto(`${server.url}/Prejoin-Check`);
  // The address is normalised to the lowercase name.
  await page.waitForURL(`${server.url}/prejoin-check`);
  await page.getByRole('meter', { name: 'Microphone level' }).waitFor();
  await page.locator('.preview video').waitFor();
  await page.getByLabel('Camera', { exact: true }).waitFor();
  await page.getByLabel('Microphone', { exact: true }).waitFor();
  await page.getByLabel('Speaker', { exact: true }).waitFor();
  await page.getByText('remembered in this browser only').waitFor();
  await page.getByRole('button', { name: 'Join meeting' }).click();
  await page.getByText('Please enter your name.').waitFor();

  await page.getByRole('button', { name: 'Turn off camera' }).click();
  await page.getByRole('button', { name: 'Turn on camera' }).waitFor();
  assert.equal(await page.locator('.preview video').count(), 0);
  // The camera really stopped (its light goes off).
  await page.getByRole('button', { name: 'Turn on camera' }).click();
  await page.locator('.preview video').waitFor();
  await page.getByRole('button', { name: 'Turn off microphone' }).click();
  await page.getByRole('button', { name: 'Turn on microphone' }).waitFor();

  await page.getByLabel('Your name').fill('Margaret');
  await shot(page, 'prejoin-desktop');
  await page.setViewportSize(PHONE);
  await shot(page, 'prejoin-phone');
  await page.setViewportSize(DESKTOP);
  // Enter in the name field joins, with the microphone off as chosen.
  await page.getByLabel('Your name').press('Enter');
  const me = page.getByRole('figure', { name: 'Margaret (you)', exact: true });
  await me.waitFor();
  await me.getByRole('img', { name: 'Microphone muted' }).waitFor();
  await page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
  await shot(page, 'meeting-alone-desktop');
  // The toolbar works from the keyboard; settings open with Enter and close with Escape.
  await page.getByRole('button', { name: 'Copy invite link' }).focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Settings');
  await page.keyboard.press('Enter');
  await page.getByRole('dialog', { name: 'Settings' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  await page.getByRole('button', { name: 'Leave meeting' }).click();

  // Rejoin keeps the choices; joining with the camera off and starting it in
  // the meeting puts video on the camera m-line that was sent empty.
  await page.getByRole('button', { name: 'Rejoin' }).click();
  await me.waitFor();
  await page.getByRole('button', { name: 'Stop camera' }).click();
  await me.locator('.avatar').waitFor();
  await page.getByRole('button', { name: 'Leave meeting' }).click();
  await page.getByRole('button', { name: 'Rejoin' }).click();
  await me.locator('.avatar').waitFor();
  const sent = () => page.evaluate(async () => (await window.__plausch.stats()).sent.videoPackets);
  await page.getByRole('button', { name: 'Start camera' }).click();
  await me.locator('video').waitFor();
  // Alone, nothing leaves the browser; the camera reaches whoever comes.
  const before = await sent();
  await page.waitForTimeout(1000);
  assert.equal(await sent(), before, 'nothing is sent while alone');
  const other = await newPerson(browser, server.url);
  await joinMeeting(other.page, server.url, 'prejoin-check', 'Ada');
  await waitForVideo(other.page, 'Margaret');
  assert.ok((await sent()) > before, 'video is sent after starting the camera in the meeting, once someone is there');
  await other.context.close();
  await page.getByRole('button', { name: 'Leave meeting' }).click();
  await page.getByRole('button', { name: 'Back to start' }).click();
  await page.getByRole('button', { name: 'Start meeting' }).waitFor();

  // The name is remembered for next time, and only in this browser.
  await page.goto(`${server.url}/prejoin-check`);
  assert.equal(await page.getByLabel('Your name').inputValue(), 'Margaret');
  const keys = await page.evaluate(() => Object.keys(localStorage).sort());
  for (const k of keys) assert.ok(['plausch.devices', 'plausch.lang', 'plausch.name'].includes(k), k);
  await context.close();
});

test('start page at phone size, and in dark mode', async () => {
  const { page, context } = await newPerson(browser, server.url, { viewport: PHONE });
  await page.goto(server.url);
  await page.waitForFunction(() => document.querySelector('#meeting-name')?.value !== '');
  await shot(page, 'start-phone');
  await context.close();
  const dark = await newPerson(browser, server.url, { colorScheme: 'dark', locale: 'de-DE' });
  await dark.page.goto(server.url);
  await dark.page.getByLabel('Meeting-Name').fill('x y');
  await dark.page.getByRole('button', { name: 'Meeting starten' }).click();
  await dark.page.getByText('Nur Buchstaben').waitFor();
  await shot(dark.page, 'start-dark-german-desktop');
  await dark.page.goto(`${server.url}/dunkel`);
  await dark.page.getByLabel('Dein Name').fill('Nachteule');
  await dark.page.locator('.preview video').waitFor();
  await shot(dark.page, 'prejoin-dark-german-desktop');
  await dark.context.close();
});

test('without camera and microphone (permission denied) one can still join', async () => {
  const { page, context, errors } = await newPerson(browser, server.url);
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
  });
  await page.goto(`${server.url}/no-devices-here`);
  await page.getByText('Camera and microphone are blocked').waitFor();
  await page.getByLabel('Your name').fill('Quiet');
  await page.getByRole('button', { name: 'Join meeting' }).click();
  const me = page.getByRole('figure', { name: 'Quiet (you)', exact: true });
  await me.waitFor();
  await me.getByRole('img', { name: 'Microphone muted' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Unmute microphone' }).isDisabled());

  // Someone with devices sees the listener as an avatar, and the listener sees them.
  const other = await newPerson(browser, server.url);
  await other.page.goto(`${server.url}/no-devices-here`);
  await other.page.getByLabel('Your name').fill('Talker');
  await other.page.getByRole('button', { name: 'Join meeting' }).click();
  await other.page.getByRole('figure', { name: 'Quiet', exact: true }).locator('.avatar').waitFor();
  await page.getByRole('figure', { name: 'Talker', exact: true }).locator('video').waitFor();
  assert.deepEqual(errors, []);
  await other.context.close();
  await context.close();
});

test('a full meeting says so, with the server reason', async () => {
  const small = await startServer(['--max-participants', '1']);
  try {
    const a = await newPerson(browser, small.url);
    const b = await newPerson(browser, small.url);
    for (const [p, name] of [[a.page, 'First'], [b.page, 'Second']]) {
      await p.goto(`${small.url}/tiny-room`);
      await p.getByLabel('Your name').fill(name);
      await p.getByRole('button', { name: 'Join meeting' }).click();
      if (name === 'First') await p.getByRole('figure', { name: 'First (you)', exact: true }).waitFor();
    }
    await b.page.getByRole('heading', { name: 'You could not join the meeting' }).waitFor();
    await b.page.getByText('This meeting is full.').waitFor();
    await shot(b.page, 'room-full-desktop');
    await a.context.close();
    await b.context.close();
  } finally {
    await small.stop();
  }
});
