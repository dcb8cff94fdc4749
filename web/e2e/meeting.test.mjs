// Three people in one meeting, through the UI as a person uses it: video and
// audio arrive, screen sharing, mute indicator, leaving. Screenshots of the
// meeting at desktop and phone size go to e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  joinMeeting,
  launchBrowser,
  media,
  newPerson,
  removeNetns,
  PHONE,
  DESKTOP,
  shot,
  startServer,
  waitForAudio,
  waitForFirstRemoteFrame,
  waitForVideo,
} from './harness.mjs';

let server;
let browser;
const people = {};
const names = ['Ada', 'Grace', 'Linus'];
const room = `e2e-${Date.now().toString(36)}`;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeNetns();
});

// The later tests build on the first; when it failed they would only time out.
let joined = false;
const needJoined = () => {
  if (!joined) assert.fail('the three did not get into the meeting (see the first test)');
  return false;
};

const fig = (page, label) => page.getByRole('figure', { name: label, exact: true });

test('three people join and see and hear each other', async () => {
  for (const name of names) people[name] = await newPerson(browser, server.url);
  const timings = {};
  for (const name of names) {
    const { page } = people[name];
    const t0 = await joinMeeting(page, server.url, room, name);
    await fig(page, `${name} (you)`).waitFor();
    if (name !== names[0]) {
      await waitForFirstRemoteFrame(page);
      timings[name] = Date.now() - t0;
    }
  }
  console.log(`join-to-first-remote-frame: ${names.slice(1).map((n) => `${n} ${timings[n]} ms`).join(', ')}`);

  for (const name of names) {
    const { page } = people[name];
    const others = names.filter((n) => n !== name);
    for (const other of others) {
      await fig(page, other).waitFor();
      await waitForVideo(page, other);
    }
    const remoteVideos = await page.locator('figure.camera-tile:not(.self) video').count();
    assert.equal(remoteVideos, 2, `${name} sees two remote videos`);
    await waitForAudio(page);
    const stats = await page.evaluate(() => window.__plausch.stats());
    assert.ok(stats.audio.totalSamplesReceived > 0, `${name} receives audio samples`);
    assert.ok(stats.video.framesDecoded > 0, `${name} decodes video`);
  }
  joined = true;
});

test('speaking is highlighted on the speaker\'s tile', async (t) => {
  if (needJoined(t)) return;
  assert.ok(media.toneAudio, 'the speaking test needs a steady test tone made by ffmpeg: apt-get install ffmpeg');
  for (const name of names) {
    const { page } = people[name];
    await page.locator('figure.camera-tile:not(.self).speaking[data-speaking="true"]').first().waitFor({ timeout: 10000 });
  }
});

test('meeting screenshots at desktop and phone size', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Ada;
  await page.waitForTimeout(800);
  await shot(page, 'meeting-desktop');
  await page.setViewportSize(PHONE);
  await page.waitForTimeout(800);
  await shot(page, 'meeting-phone');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('dialog').getByLabel('Camera').waitFor();
  await shot(page, 'meeting-settings-phone');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  await page.setViewportSize(DESKTOP);
});

test('screen sharing appears for the others and goes away when stopped', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Grace;
  await page.getByRole('button', { name: 'Share screen' }).click();
  await page.getByRole('button', { name: 'Stop screen sharing' }).waitFor();
  for (const name of ['Ada', 'Linus']) {
    const p = people[name].page;
    await fig(p, 'Screen of Grace').waitFor({ timeout: 15000 });
    await waitForVideo(p, 'Screen of Grace');
  }
  await shot(people.Ada.page, 'meeting-screen-desktop');
  await people.Linus.page.setViewportSize(PHONE);
  await people.Linus.page.waitForTimeout(500);
  await shot(people.Linus.page, 'meeting-screen-phone');
  await people.Linus.page.setViewportSize(DESKTOP);

  await page.getByRole('button', { name: 'Stop screen sharing' }).click();
  await page.getByRole('button', { name: 'Share screen' }).waitFor();
  for (const name of ['Ada', 'Linus']) {
    await fig(people[name].page, 'Screen of Grace').waitFor({ state: 'detached', timeout: 15000 });
  }
  // Sharing again works too (a new m-line on the publish connection).
  await page.getByRole('button', { name: 'Share screen' }).click();
  await fig(people.Ada.page, 'Screen of Grace').waitFor({ timeout: 15000 });
  await waitForVideo(people.Ada.page, 'Screen of Grace');
  await page.getByRole('button', { name: 'Stop screen sharing' }).click();
  await fig(people.Ada.page, 'Screen of Grace').waitFor({ state: 'detached', timeout: 15000 });
});

test('muting shows the indicator to the others; unmuting removes it', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Linus;
  await page.getByRole('button', { name: 'Mute microphone' }).click();
  await page.getByRole('button', { name: 'Unmute microphone' }).waitFor();
  for (const name of ['Ada', 'Grace']) {
    await fig(people[name].page, 'Linus').getByRole('img', { name: 'Microphone muted' }).waitFor({ timeout: 10000 });
  }
  await page.getByRole('button', { name: 'Unmute microphone' }).click();
  for (const name of ['Ada', 'Grace']) {
    await fig(people[name].page, 'Linus').getByRole('img', { name: 'Microphone muted' }).waitFor({ state: 'detached', timeout: 10000 });
  }
});

test('camera off shows the avatar to the others; on again shows video', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Grace;
  await page.getByRole('button', { name: 'Stop camera' }).click();
  await page.getByRole('button', { name: 'Start camera' }).waitFor();
  await fig(people.Ada.page, 'Grace').locator('.avatar').waitFor({ timeout: 10000 });
  await shot(people.Ada.page, 'meeting-camera-off-desktop');
  await page.getByRole('button', { name: 'Start camera' }).click();
  await page.getByRole('button', { name: 'Stop camera' }).waitFor();
  await waitForVideo(people.Ada.page, 'Grace');
});

test('switching the microphone in the meeting keeps the sound going', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Ada;
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Settings' });
  const select = dialog.getByLabel('Microphone', { exact: true });
  await select.locator('option[value]:not([value=""])').first().waitFor({ state: 'attached' });
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => o.value));
  // Chromium's fake devices offer several microphones; one would mean the
  // browser setup changed and the switch cannot be shown.
  assert.ok(options.length >= 2, `need two fake microphones to switch between, got ${options.length}`);
  const current = await select.inputValue();
  const other = options.find((o) => o !== current);
  const before = await page.evaluate(() => window.__plausch.stats());
  await select.selectOption(other);
  await page.waitForTimeout(1500);
  assert.equal(await select.inputValue(), other);
  const after = await page.evaluate(() => window.__plausch.stats());
  assert.ok(after.sent.audioPackets > before.sent.audioPackets + 20, 'audio still sent after replaceTrack');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  // The others still hear Ada: the server still sees her audio level.
  if (media.toneAudio) await people.Grace.page.locator('figure[aria-label="Ada"][data-speaking="true"]').waitFor({ timeout: 10000 });
});

test('invite link is copied', async (t) => {
  if (needJoined(t)) return;
  const { page, context } = people.Ada;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await page.getByRole('button', { name: 'Copy invite link' }).click();
  await page.getByRole('status').getByText('Invite link copied').waitFor();
  const text = await page.evaluate(() => navigator.clipboard.readText());
  // Ada came first without a key, so her browser made the meeting key; the link carries it.
  assert.match(text, new RegExp(`^${server.url}/${room}#k=[A-Za-z0-9_-]{22}$`));
});

test('leaving removes the tile for the others', async (t) => {
  if (needJoined(t)) return;
  const { page } = people.Linus;
  await page.getByRole('button', { name: 'Leave meeting' }).click();
  await page.getByRole('heading', { name: 'You left the meeting' }).waitFor();
  await page.getByRole('button', { name: 'Rejoin' }).waitFor();
  await page.getByRole('button', { name: 'Back to start' }).waitFor();
  for (const name of ['Ada', 'Grace']) {
    await fig(people[name].page, 'Linus').waitFor({ state: 'detached', timeout: 10000 });
    await people[name].page.getByRole('status').getByText('Linus left').waitFor({ timeout: 5000 }).catch(() => undefined);
  }
  // Rejoin brings Linus back for the others.
  await page.getByRole('button', { name: 'Rejoin' }).click();
  await fig(page, 'Linus (you)').waitFor();
  await waitForVideo(people.Ada.page, 'Linus');
});

test('nothing was requested from another origin, and no page errors', async (t) => {
  if (needJoined(t)) return;
  for (const name of names) {
    assert.deepEqual(people[name].foreign, [], `${name}: requests to other origins`);
    assert.deepEqual(people[name].errors, [], `${name}: page errors`);
  }
});
