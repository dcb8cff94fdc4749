// End-to-end encrypted media and direct calls, through the UI:
//  - two people talk directly: the server's packet counters stay at zero
//    while video flows both ways; a third joins and all go through the
//    server (counters rise, keys ratchet); back to two and direct again
//    (counters stop, keys are fresh). The longest freeze of the video during
//    each switch is printed.
//  - three with encryption see and hear each other (the tone is checked by
//    its frequency, as scrambled audio would still "decode"), while the
//    server-side tap (`plausch probe`) cannot decode their video but does
//    decode a browser's without frame encryption; no WebSocket frame carries
//    a media key.
//  - a wrong key shows "cannot decrypt" on the tile, not garbage.
//  - a meeting that requires end-to-end encryption removes and turns away a
//    browser that cannot do it, with a clear page.
//  - the cost of frame encryption at 720p is printed.
// Screenshots of the indicator's states go to e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DESKTOP,
  joinMeeting,
  keepPeerConnections,
  launchBrowser,
  newPerson,
  PHONE,
  removeNetns,
  runPlausch,
  shot,
  startServer,
  waitForVideo,
} from './harness.mjs';

let server;
let browser;
const people = {};

before(async () => {
  server = await startServer(['--metrics']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeNetns();
});

/** Every key handed to the frame worker, recorded in the page (the app never shows key material). */
function recordMediaKeys() {
  window.__mediaKeys = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (msg, ...rest) {
    if (msg && (msg.type === 'send-key' || msg.type === 'recv-key')) window.__mediaKeys.push(Array.from(msg.material));
    return post.call(this, msg, ...rest);
  };
}

/** A browser without frame encryption (as a browser that cannot do it). */
function withoutFrameEncryption() {
  delete window.RTCRtpScriptTransform;
  delete RTCRtpSender.prototype.createEncodedStreams;
  delete RTCRtpReceiver.prototype.createEncodedStreams;
}

async function person(name, opts = {}) {
  const p = await newPerson(browser, server.url, opts);
  p.name = name;
  p.frames = [];
  await p.context.addInitScript(recordMediaKeys);
  if (opts.plain) await p.context.addInitScript(withoutFrameEncryption);
  p.page.on('websocket', (ws) => {
    ws.on('framesent', (f) => p.frames.push(String(f.payload)));
    ws.on('framereceived', (f) => p.frames.push(String(f.payload)));
  });
  people[name] = p;
  return p;
}

/** Closes the named people's browser profiles: they leave their meetings. */
async function leave(...names) {
  for (const n of names) await people[n]?.context.close();
}

const fig = (page, label) => page.getByRole('figure', { name: label, exact: true });
const info = (page) => page.evaluate(() => window.__plausch.e2ee());
const selfId = (page) => page.evaluate(() => document.querySelector('figure.self')?.getAttribute('data-participant'));
const idOf = (page, name) => fig(page, name).getAttribute('data-participant');

/** The server's packet counters, read through the page (the server runs in the test's network namespace). */
async function counters(page) {
  const text = await page.evaluate(async () => (await fetch('/metrics')).text());
  const get = (name) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? NaN);
  return { received: get('plausch_rtp_packets_received_total'), forwarded: get('plausch_rtp_packets_forwarded_total') };
}

async function indicator(page) {
  const b = page.locator('.crypto-button');
  return { media: await b.getAttribute('data-media'), path: await b.getAttribute('data-path'), label: await b.getAttribute('aria-label') };
}

async function waitPath(page, path, timeout = 20000) {
  await page.locator(`.crypto-button[data-path="${path}"]`).waitFor({ timeout });
}

async function popoverText(page) {
  await page.locator('.crypto-button').click();
  const dialog = page.getByRole('dialog', { name: 'Encryption in this meeting' });
  await dialog.waitFor();
  const text = await dialog.innerText();
  return { dialog, text };
}

async function closePopover(page) {
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Encryption in this meeting' }).waitFor({ state: 'detached' });
}

/**
 * Watches one remote tile's video and keeps the longest gap between new
 * frames, whichever <video> element the tile shows (it changes on a switch).
 */
async function watchFrames(page, label) {
  await page.evaluate((label) => {
    const w = (window.__watch = { max: 0, last: performance.now(), frames: 0, el: null, src: null, seen: 0, switches: 0 });
    w.timer = setInterval(() => {
      const v = [...document.querySelectorAll('figure')].find((f) => f.getAttribute('aria-label') === label)?.querySelector('video');
      const now = performance.now();
      // A new element or a new stream in it starts counting from zero.
      if (v !== w.el || v?.srcObject !== w.src) {
        if (w.el) w.switches++;
        w.el = v;
        w.src = v?.srcObject ?? null;
        w.seen = 0;
      }
      const n = v && v.videoWidth > 0 ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
      if (n < w.seen) w.seen = 0;
      if (n > w.seen) {
        w.max = Math.max(w.max, now - w.last);
        w.last = now;
        w.frames += n - w.seen;
        w.seen = n;
      }
    }, 10);
  }, label);
}

async function stopWatching(page) {
  return page.evaluate(() => {
    const w = window.__watch;
    clearInterval(w.timer);
    return { maxGapMs: Math.round(Math.max(w.max, performance.now() - w.last)), frames: w.frames, switches: w.switches };
  });
}

/**
 * Listens to one participant's audio as played here and finds its loudest
 * frequency. The fake microphone plays a 220 Hz tone: decrypted audio has
 * its peak there, far above the rest; scrambled audio would be noise.
 */
async function hearTone(page, participantId) {
  return page.evaluate(async (id) => {
    const el = document.querySelector(`.audio-sinks audio[data-participant="${id}"]`);
    const track = el?.srcObject?.getAudioTracks()[0];
    if (!track) return { found: false };
    const ctx = new AudioContext();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
    const bins = new Float32Array(an.frequencyBinCount);
    const sum = new Float32Array(an.frequencyBinCount);
    let rms = 0;
    const buf = new Float32Array(an.fftSize);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatFrequencyData(bins);
      for (let j = 0; j < bins.length; j++) sum[j] += 10 ** (bins[j] / 10);
      an.getFloatTimeDomainData(buf);
      rms = Math.max(rms, Math.sqrt(buf.reduce((a, x) => a + x * x, 0) / buf.length));
    }
    const hz = ctx.sampleRate / an.fftSize;
    let peak = 1;
    for (let j = 2; j < sum.length; j++) if (sum[j] > sum[peak]) peak = j;
    const sorted = Array.from(sum.slice(1, Math.floor(4000 / hz))).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    await ctx.close();
    return { found: true, peakHz: Math.round(peak * hz), peakOverMedianDb: Math.round(10 * Math.log10(sum[peak] / median)), rms };
  }, participantId);
}

async function assertHears(listener, speaker) {
  const id = await selfId(speaker.page);
  let tone;
  for (let i = 0; i < 3; i++) {
    tone = await hearTone(listener.page, id);
    if (tone.found && tone.peakHz > 200 && tone.peakHz < 240 && tone.peakOverMedianDb > 25) break;
  }
  console.log(`${listener.name} hears ${speaker.name}: peak ${tone.peakHz} Hz, ${tone.peakOverMedianDb} dB above the median, rms ${tone.rms?.toFixed(3)}`);
  assert.ok(tone.found, `${listener.name} plays ${speaker.name}'s audio`);
  assert.ok(tone.peakHz > 200 && tone.peakHz < 240, `${listener.name} hears ${speaker.name}'s 220 Hz tone (peak at ${tone.peakHz} Hz)`);
  assert.ok(tone.peakOverMedianDb > 25, `${listener.name}: the tone stands out (${tone.peakOverMedianDb} dB), not noise`);
}

const room1 = `direct-${Date.now().toString(36)}`;
let direct = false;
const needDirect = () => {
  if (!direct) assert.fail('the two did not connect directly (see the first test)');
};

test('two people talk directly: video both ways, the server forwards nothing, the indicator says so', async () => {
  const ada = await person('Ada');
  const grace = await person('Grace');
  await joinMeeting(ada.page, server.url, room1, 'Ada');
  await fig(ada.page, 'Ada (you)').waitFor();
  await joinMeeting(grace.page, server.url, room1, 'Grace');
  await waitForVideo(ada.page, 'Grace');
  await waitForVideo(grace.page, 'Ada');
  for (const p of [ada, grace]) await waitPath(p.page, 'direct');
  await assertHears(ada, grace);
  await assertHears(grace, ada);
  const c0 = await counters(ada.page);
  await ada.page.waitForTimeout(2500);
  await waitForVideo(ada.page, 'Grace');
  await waitForVideo(grace.page, 'Ada');
  const c1 = await counters(ada.page);
  console.log(`direct call: server counters ${JSON.stringify(c0)} then ${JSON.stringify(c1)}`);
  assert.deepEqual(c0, { received: 0, forwarded: 0 }, 'the server received no media packet');
  assert.deepEqual(c1, { received: 0, forwarded: 0 }, 'and still none while video flows');
  for (const p of [ada, grace]) {
    const i = await indicator(p.page);
    assert.equal(i.media, 'on');
    assert.match(i.label, /Audio and video end-to-end encrypted/);
    const e = await info(p.page);
    assert.equal(e.path, 'direct');
    assert.equal(e.sfuSending, false);
    assert.ok(e.worker.encrypted.video.frames > 0, 'video frames were encrypted');
  }
  const { text } = await popoverText(ada.page);
  assert.match(text, /Audio and video: end-to-end encrypted\. Only the people in this meeting can see and hear them\./);
  assert.match(text, /Path: a direct connection between the two of you\./);
  await shot(ada.page, 'e2ee-direct-desktop');
  await closePopover(ada.page);
  // A shared screen goes the same way, encrypted, and still not through the server.
  await grace.page.getByRole('button', { name: 'Share screen' }).click();
  await fig(ada.page, 'Screen of Grace').waitFor({ timeout: 15000 });
  await waitForVideo(ada.page, 'Screen of Grace');
  await grace.page.getByRole('button', { name: 'Stop screen sharing' }).click();
  await fig(ada.page, 'Screen of Grace').waitFor({ state: 'detached', timeout: 15000 });
  assert.deepEqual(await counters(ada.page), { received: 0, forwarded: 0 }, 'the screen did not go through the server');
  direct = true;
});

test('a third joins: all three through the server, the counters rise, keys ratchet; the freeze is printed', async () => {
  needDirect();
  const { Ada: ada, Grace: grace } = people;
  const adaKid = (await info(ada.page)).sendKeyId;
  const graceKid = (await info(grace.page)).sendKeyId;
  await watchFrames(ada.page, 'Grace');
  const linus = await person('Linus');
  await joinMeeting(linus.page, server.url, room1, 'Linus');
  for (const p of [ada, grace, linus]) {
    for (const o of ['Ada', 'Grace', 'Linus'].filter((n) => n !== p.name)) await waitForVideo(p.page, o);
    await waitPath(p.page, 'server');
  }
  await ada.page.waitForTimeout(1000);
  const freeze = await stopWatching(ada.page);
  console.log(`switch direct -> server: longest gap in Grace's video at Ada: ${freeze.maxGapMs} ms (${freeze.frames} frames, ${freeze.switches} stream changes)`);
  const c0 = await counters(ada.page);
  await ada.page.waitForTimeout(1500);
  const c1 = await counters(ada.page);
  console.log(`three through the server: counters ${JSON.stringify(c0)} then ${JSON.stringify(c1)}`);
  assert.ok(c1.received > c0.received && c1.forwarded > c0.forwarded, 'the server carries the media now');
  // Everyone moved their key one ratchet step, so Linus cannot decrypt what came before.
  assert.equal((await info(ada.page)).sendKeyId, (adaKid + 1) >>> 0, 'Ada ratcheted');
  assert.equal((await info(grace.page)).sendKeyId, (graceKid + 1) >>> 0, 'Grace ratcheted');
  const lin = await info(linus.page);
  const adaId = await selfId(ada.page);
  assert.ok(!lin.receivers[adaId].includes(adaKid), 'Linus never held Ada\'s key from before he came');
  const { text } = await popoverText(ada.page);
  assert.match(text, /Path: through the server\./);
  assert.match(text, /Audio and video: end-to-end encrypted/);
  await closePopover(ada.page);
});

test('back to two: direct again, the counters stop, the remaining keys are fresh; the freeze is printed', async () => {
  needDirect();
  const { Ada: ada, Grace: grace, Linus: linus } = people;
  const before = { ada: (await info(ada.page)).sendKeyId, grace: (await info(grace.page)).sendKeyId };
  await watchFrames(ada.page, 'Grace');
  await linus.page.getByRole('button', { name: 'Leave meeting' }).click();
  await linus.context.close();
  for (const p of [ada, grace]) await waitPath(p.page, 'direct');
  // Once both have said so they stop sending to the server.
  await ada.page.waitForFunction(async () => !(await window.__plausch.e2ee()).sfuSending, null, { timeout: 10000, polling: 200 });
  await grace.page.waitForFunction(async () => !(await window.__plausch.e2ee()).sfuSending, null, { timeout: 10000, polling: 200 });
  await ada.page.waitForTimeout(1000);
  const freeze = await stopWatching(ada.page);
  console.log(`switch server -> direct: longest gap in Grace's video at Ada: ${freeze.maxGapMs} ms (${freeze.frames} frames, ${freeze.switches} stream changes)`);
  const c0 = await counters(ada.page);
  await ada.page.waitForTimeout(2500);
  await waitForVideo(ada.page, 'Grace');
  await waitForVideo(grace.page, 'Ada');
  const c1 = await counters(ada.page);
  console.log(`back to direct: counters ${JSON.stringify(c0)} then ${JSON.stringify(c1)}`);
  assert.deepEqual(c1, c0, 'the server carries nothing any more');
  const now = { ada: (await info(ada.page)).sendKeyId, grace: (await info(grace.page)).sendKeyId };
  console.log(`key ids before Linus left ${JSON.stringify(before)}, after ${JSON.stringify(now)}`);
  assert.notEqual(now.ada, before.ada, 'Ada has a new key');
  assert.notEqual(now.grace, before.grace, 'Grace has a new key');
  // Fresh keys, not ratchet steps Linus could follow.
  assert.ok(((now.ada - before.ada) >>> 0) > 16, 'Ada\'s key is not a ratchet step of the old one');
  assert.ok(((now.grace - before.grace) >>> 0) > 16, 'Grace\'s key is not a ratchet step of the old one');
  // Each holds the other's fresh key and uses it.
  const a = await info(ada.page);
  const gId = await selfId(grace.page);
  assert.equal(a.inUse[gId], now.grace);
  const { text } = await popoverText(grace.page);
  assert.match(text, /Path: a direct connection between the two of you\./);
  await closePopover(grace.page);
  // Done with them: on two cores, browsers left in a call starve the tests after.
  await leave('Ada', 'Grace');
});

const room2 = `e2ee-${Date.now().toString(36)}`;
let three = false;
const needThree = () => {
  if (!three) assert.fail('the three did not meet (see the test before)');
};

test('three with encryption see and hear each other; the server\'s tap cannot decode their video; no frame carries a media key', async () => {
  const names = ['Mia', 'Noah', 'Olga'];
  for (const n of names) {
    const p = await person(n);
    await joinMeeting(p.page, server.url, room2, n);
    await fig(p.page, `${n} (you)`).waitFor();
  }
  for (const n of names) {
    const p = people[n];
    for (const o of names.filter((x) => x !== n)) {
      await waitForVideo(p.page, o);
      await assertHears(p, people[o]);
    }
    await waitPath(p.page, 'server');
    assert.equal((await indicator(p.page)).media, 'on');
  }
  three = true;
  const ids = {};
  for (const n of names) ids[await selfId(people[n].page)] = n;
  // The tap joins as a fourth participant (it cannot decrypt: everyone is told).
  const out = JSON.parse(await runPlausch(['probe', '--url', server.url, '--room', room2, '--ice-loopback', '--duration', '4s']));
  console.log(`probe: ${JSON.stringify(out.tracks.map((t) => ({ who: ids[t.participant], source: t.source, packets: t.packets, keyframes: t.keyframes, decoded: t.decodedKeyframes, undecodable: t.undecodableKeyframes })))}`);
  for (const n of names) {
    const id = Object.keys(ids).find((k) => ids[k] === n);
    const cam = out.tracks.find((t) => t.participant === id && t.source === 'camera');
    assert.ok(cam, `the server forwarded ${n}'s camera`);
    assert.ok(cam.packets > 0 && cam.keyframes > 0, `${n}: keyframes forwarded`);
    // Random bytes behind a clear VP8 header pass the tap's decoder now and
    // then (more often for the small simulcast layers), while a plain stream
    // never has an undecodable keyframe (the Paul control below): one
    // undecodable keyframe is the proof.
    assert.ok(cam.undecodableKeyframes > 0, `${n}: the keyframes are there but undecodable`);
    assert.ok(cam.decodedKeyframes < cam.keyframes, `${n}: not every keyframe decodes on the server side`);
    const mic = out.tracks.find((t) => t.participant === id && t.source === 'microphone');
    assert.ok(mic?.packets > 0, `${n}: audio forwarded`);
  }
  // While the tap was there, everyone saw a participant that is not end-to-end encrypted.
  await fig(people.Mia.page, 'Probe').waitFor({ state: 'detached', timeout: 10000 });

  // No WebSocket frame, sent or received, holds any media key in any usual spelling.
  let keys = 0;
  let frames = 0;
  for (const n of names) {
    const p = people[n];
    const materials = await p.page.evaluate(() => window.__mediaKeys);
    assert.ok(materials.length >= 3, `${n}: keys were recorded`);
    frames += p.frames.length;
    for (const m of materials) {
      const b = Buffer.from(m);
      const spellings = [b.toString('base64url'), b.toString('base64'), b.toString('hex'), m.join(',')];
      for (const f of Object.values(people).flatMap((x) => x.frames)) {
        for (const s of spellings) assert.ok(!f.includes(s), `${n}: a media key in a WebSocket frame`);
      }
      keys++;
    }
  }
  assert.ok(people.Mia.frames.some((f) => f.includes('media-key') && f.includes('"type":"relay"')), 'media keys went through the relay, wrapped');
  console.log(`checked ${keys} media keys against ${frames} WebSocket frames`);
});

test('after comparing the code, a participant can be marked as verified (in memory only)', async () => {
  needThree();
  const { Mia: mia } = people;
  await mia.page.getByRole('button', { name: 'Participants' }).click();
  const row = mia.page.locator('#people-panel li.person', { has: mia.page.locator('.person-name', { hasText: /^Olga$/ }) });
  await row.getByText('Compare this code with Olga:').waitFor();
  await row.getByRole('button', { name: 'Mark as verified' }).click();
  await row.getByRole('button', { name: 'Remove the verified mark' }).waitFor();
  await row.getByText('Verified', { exact: true }).waitFor();
  await fig(mia.page, 'Olga').getByRole('img', { name: 'Verified' }).waitFor();
  assert.equal(await fig(mia.page, 'Noah').getByRole('img', { name: 'Verified' }).count(), 0, 'only Olga is marked');
  await shot(mia.page, 'e2ee-verified-desktop');
  await mia.page.setViewportSize(PHONE);
  await mia.page.waitForTimeout(300);
  await shot(mia.page, 'e2ee-verified-phone');
  await mia.page.setViewportSize(DESKTOP);
  await mia.page.locator('#people-panel').getByRole('button', { name: 'Close' }).click();
  await mia.page.locator('#people-panel').waitFor({ state: 'detached' });
  // Nothing of it is stored.
  assert.deepEqual(await mia.page.evaluate(() => Object.keys(localStorage).filter((k) => !['plausch.name', 'plausch.lang', 'plausch.devices'].includes(k))), []);
});

test('a wrong key: the tile says "cannot decrypt" and shows no garbage', async () => {
  needThree();
  const { Mia: mia, Noah: noah } = people;
  const noahId = await idOf(mia.page, 'Noah');
  await mia.page.evaluate((id) => window.__plausch.wrongKey(id), noahId);
  const tile = fig(mia.page, 'Noah');
  await mia.page.locator('figure[data-e2ee="failing"][aria-label="Noah"]').waitFor({ timeout: 10000 });
  await tile.getByText('Cannot decrypt').waitFor();
  assert.equal(await tile.locator('video').count(), 0, 'no video shown for Noah');
  // Noah's frames are dropped, not passed on: his receivers open nothing more and count failures.
  const noahs = (w) => Object.values(w.transforms).filter((t) => t.participant === noahId);
  const w0 = (await info(mia.page)).worker;
  await mia.page.waitForTimeout(1000);
  const w1 = (await info(mia.page)).worker;
  assert.ok(noahs(w0).length >= 2, 'Noah\'s audio and video receivers');
  assert.equal(noahs(w1).reduce((n, t) => n + t.ok, 0), noahs(w0).reduce((n, t) => n + t.ok, 0), 'no frame of Noah\'s decrypts');
  assert.ok(noahs(w1).reduce((n, t) => n + t.failed, 0) > noahs(w0).reduce((n, t) => n + t.failed, 0), 'his frames fail and are counted');
  assert.ok(w1.decryptFailures > 0);
  // Mia still sees Olga.
  await waitForVideo(mia.page, 'Olga');
  const { text } = await popoverText(mia.page);
  assert.match(text, /Cannot decrypt the audio and video of Noah/);
  assert.match((await mia.page.locator('.crypto-button').innerText()).trim(), /Cannot decrypt everything/);
  await shot(mia.page, 'e2ee-cannot-decrypt-desktop');
  await closePopover(mia.page);
  await mia.page.setViewportSize(PHONE);
  await mia.page.waitForTimeout(500);
  await shot(mia.page, 'e2ee-cannot-decrypt-phone');
  await mia.page.setViewportSize(DESKTOP);
  // Noah's own view is unaffected.
  await waitForVideo(noah.page, 'Mia');
  await leave('Mia', 'Noah', 'Olga');
});

test('a browser without frame encryption: marked "not end-to-end encrypted"; its video decodes on the server, the others\' does not', async () => {
  const room3 = `mixed-${Date.now().toString(36)}`;
  const ruth = await person('Ruth');
  const paul = await person('Paul', { plain: true });
  await joinMeeting(ruth.page, server.url, room3, 'Ruth');
  await fig(ruth.page, 'Ruth (you)').waitFor();
  await paul.page.goto(`${server.url}/${room3}`);
  await paul.page.getByText('This browser cannot encrypt audio and video end to end.').waitFor();
  await paul.page.getByLabel('Your name').fill('Paul');
  await paul.page.getByRole('button', { name: 'Join meeting' }).click();
  // Ruth sees Paul (his frames pass as they are), marked as not encrypted.
  await waitForVideo(ruth.page, 'Paul');
  await fig(ruth.page, 'Paul').getByText('Not end-to-end encrypted').waitFor();
  const r = await indicator(ruth.page);
  assert.equal(r.media, 'partial');
  assert.match(r.label, /Audio and video not end-to-end encrypted for everyone/);
  const { text } = await popoverText(ruth.page);
  assert.match(text, /Audio and video of Paul: not end-to-end encrypted, their browser cannot do it\./);
  assert.doesNotMatch(text, /Audio and video: end-to-end encrypted/);
  await shot(ruth.page, 'e2ee-partial-desktop');
  await closePopover(ruth.page);
  // Paul cannot decrypt Ruth: no video, no noise played, and he is told.
  await fig(paul.page, 'Ruth').getByText('This browser cannot decrypt').waitFor();
  assert.equal(await paul.page.locator('.audio-sinks audio').count(), 0, 'encrypted audio is not played as noise');
  assert.equal((await indicator(paul.page)).media, 'off');
  const pt = await popoverText(paul.page);
  assert.match(pt.text, /Audio and video: not end-to-end encrypted, this browser cannot do it\./);
  await shot(paul.page, 'e2ee-this-browser-cannot-desktop');
  await closePopover(paul.page);
  await paul.page.setViewportSize(PHONE);
  await ruth.page.setViewportSize(PHONE);
  await paul.page.waitForTimeout(500);
  await shot(paul.page, 'e2ee-this-browser-cannot-phone');
  await shot(ruth.page, 'e2ee-partial-tile-phone');
  await ruth.page.locator('.crypto-button').click();
  await shot(ruth.page, 'e2ee-partial-popover-phone');
  await closePopover(ruth.page);
  await paul.page.setViewportSize(DESKTOP);
  await ruth.page.setViewportSize(DESKTOP);

  // The control: the tap decodes Paul's plain VP8, not Ruth's.
  const ids = { [await selfId(ruth.page)]: 'Ruth', [await selfId(paul.page)]: 'Paul' };
  const out = JSON.parse(await runPlausch(['probe', '--url', server.url, '--room', room3, '--ice-loopback', '--duration', '6s']));
  const cams = out.tracks.filter((t) => t.source === 'camera').map((t) => ({ who: ids[t.participant], keyframes: t.keyframes, decoded: t.decodedKeyframes, undecodable: t.undecodableKeyframes }));
  console.log(`probe, mixed meeting: ${JSON.stringify(cams)}`);
  const paulCam = cams.find((c) => c.who === 'Paul');
  const ruthCam = cams.find((c) => c.who === 'Ruth');
  assert.ok(paulCam && paulCam.decoded > 0, 'plain VP8 decodes on the server side (the control)');
  assert.ok(paulCam.undecodable === 0, 'every plain keyframe decodes');
  assert.ok(ruthCam && ruthCam.undecodable > 0, 'encrypted VP8 does not (random bytes behind the clear header decode now and then)');

  // Require end-to-end encryption: Paul is removed with a clear page; a newcomer like him is turned away.
  await ruth.page.getByRole('button', { name: 'Participants' }).click();
  const require = ruth.page.getByRole('switch', { name: 'Require end-to-end encryption' });
  // The switch shows the meeting's setting: it turns on when the server confirms.
  await require.click();
  await paul.page.getByRole('heading', { name: 'End-to-end encryption required' }).waitFor({ timeout: 10000 });
  await ruth.page.waitForFunction(() => document.querySelector('[role=switch][aria-describedby="e2ee-hint"]')?.checked === true);
  await paul.page.getByText('This meeting requires end-to-end encryption, which this browser does not support.').waitFor();
  await shot(paul.page, 'e2ee-required-desktop');
  await fig(ruth.page, 'Paul').waitFor({ state: 'detached' });
  assert.equal((await indicator(ruth.page)).media, 'on', 'with Paul gone, everything is end-to-end encrypted');
  const quinn = await person('Quinn', { plain: true, viewport: PHONE });
  await joinMeeting(quinn.page, server.url, room3, 'Quinn').catch(() => undefined);
  await quinn.page.getByRole('heading', { name: 'End-to-end encryption required' }).waitFor({ timeout: 10000 });
  await shot(quinn.page, 'e2ee-required-phone');
  assert.deepEqual(ruth.errors, []);
});

test('a browser with only encoded insertable streams (no RTCRtpScriptTransform) talks with one that has it', async () => {
  const room5 = `streams-${Date.now().toString(36)}`;
  const vera = await person('Vera');
  await vera.context.addInitScript(() => {
    delete window.RTCRtpScriptTransform;
  });
  const walt = await person('Walt');
  await joinMeeting(vera.page, server.url, room5, 'Vera');
  await fig(vera.page, 'Vera (you)').waitFor();
  await joinMeeting(walt.page, server.url, room5, 'Walt');
  await waitForVideo(vera.page, 'Walt');
  await waitForVideo(walt.page, 'Vera');
  await assertHears(walt, vera);
  await assertHears(vera, walt);
  for (const p of [vera, walt]) {
    const e = await info(p.page);
    assert.ok(e.supported && e.worker.encrypted.video.frames > 0, `${p.name} encrypts`);
    assert.equal((await indicator(p.page)).media, 'on');
  }
  await vera.context.close();
  await walt.context.close();
});

test('the cost of frame encryption at 720p (printed)', async () => {
  const b720 = await launchBrowser({ cameraFile: false });
  try {
    const room4 = `cost-${Date.now().toString(36)}`;
    const a = await newPerson(b720, server.url);
    const b = await newPerson(b720, server.url);
    // The encoder starts small and grows slowly on this machine: hold it at the camera's size.
    await a.context.addInitScript(keepPeerConnections);
    await joinMeeting(a.page, server.url, room4, 'Sara');
    await fig(a.page, 'Sara (you)').waitFor();
    await joinMeeting(b.page, server.url, room4, 'Tom');
    await waitForVideo(a.page, 'Tom');
    const res = await a.page.evaluate(() => {
      const t = document.querySelector('figure.self video')?.srcObject?.getVideoTracks()[0];
      return t ? t.getSettings() : null;
    });
    assert.ok(res && res.width === 1280 && res.height === 720, `the camera gives 1280x720 (got ${res?.width}x${res?.height})`);
    await a.page.evaluate(async () => {
      for (const pc of window.__pcs) {
        for (const sender of pc.getSenders()) {
          if (sender.track?.kind !== 'video') continue;
          const p = sender.getParameters();
          p.degradationPreference = 'maintain-resolution';
          await sender.setParameters(p);
        }
      }
    });
    await a.page.waitForFunction(async () => (await window.__plausch.stats()).sent.videoWidth === 1280, null, { timeout: 15000, polling: 250 });
    await a.page.waitForTimeout(1000);
    const s0 = (await a.page.evaluate(() => window.__plausch.e2ee())).worker.encrypted;
    await a.page.waitForTimeout(5000);
    const s1 = (await a.page.evaluate(() => window.__plausch.e2ee())).worker.encrypted;
    const sentWidth = (await a.page.evaluate(() => window.__plausch.stats())).sent.videoWidth;
    const d = (k) => ({
      frames: s1[k].frames - s0[k].frames,
      ms: s1[k].ms - s0[k].ms,
      bytesIn: s1[k].bytesIn - s0[k].bytesIn,
      bytesOut: s1[k].bytesOut - s0[k].bytesOut,
    });
    const v = d('video');
    const au = d('audio');
    console.log(
      `frame encryption at 720p (camera 1280x720, sent ${sentWidth} wide): video ${v.frames} frames, ${(v.ms / v.frames).toFixed(3)} ms per frame in the worker, ` +
        `${Math.round(v.bytesIn / v.frames)} bytes per frame, +${((v.bytesOut - v.bytesIn) / v.frames).toFixed(1)} bytes per frame; ` +
        `audio ${au.frames} frames, ${(au.ms / au.frames).toFixed(3)} ms per frame, ${Math.round(au.bytesIn / au.frames)} bytes per frame, +${((au.bytesOut - au.bytesIn) / au.frames).toFixed(1)} bytes per frame`,
    );
    assert.ok(v.frames > 50, 'video frames were encrypted');
    assert.equal(sentWidth, 1280, 'the frames measured were 720p');
  } finally {
    await b720.close();
  }
});
