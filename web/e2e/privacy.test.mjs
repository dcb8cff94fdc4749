// End-to-end encrypted chat and data minimisation, through the UI: every
// WebSocket frame both ways is captured while people chat, and neither the
// plaintext nor the meeting key may appear in any of them. A participant
// without the key gets it by the key exchange; codes match; a wrong key
// shows "could not decrypt"; every request goes to the server's own origin;
// the privacy page. Screenshots go to e2e/screenshots/.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DESKTOP, launchBrowser, newPerson, PHONE, removeNetns, shot, startServer } from './harness.mjs';

let server;
let browser;
const people = {};
const room = `chat-${Date.now().toString(36)}`;
let key = '';
const marker = (what) => `${what}-${Math.random().toString(36).slice(2, 10)}`;
const secrets = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  removeNetns();
});

/** A person whose every WebSocket frame (both ways) and socket address is recorded. */
async function person(name, opts) {
  const p = await newPerson(browser, server.url, opts);
  p.name = name;
  p.frames = [];
  p.sockets = [];
  p.page.on('websocket', (ws) => {
    p.sockets.push(ws.url());
    ws.on('framesent', (f) => p.frames.push({ dir: 'sent', text: String(f.payload) }));
    ws.on('framereceived', (f) => p.frames.push({ dir: 'received', text: String(f.payload) }));
  });
  people[name] = p;
  return p;
}

async function join(p, url) {
  await p.page.goto(url);
  await p.page.getByLabel('Your name').fill(p.name);
  await p.page.getByRole('button', { name: 'Join meeting' }).click();
  await p.page.getByRole('figure', { name: `${p.name} (you)`, exact: true }).waitFor();
}

const chatMessages = (page) => page.getByRole('log', { name: 'Chat' });

async function openChat(page) {
  if ((await page.locator('#chat-panel').count()) === 0) await page.getByRole('button', { name: 'Open chat' }).click();
  await page.getByLabel('Message').waitFor();
}

async function send(page, text, to = 'Everyone') {
  await openChat(page);
  await page.getByLabel('To', { exact: true }).selectOption({ label: to });
  await page.getByLabel('Message').fill(text);
  await page.getByLabel('Message').press('Enter');
  await chatMessages(page).getByText(text, { exact: false }).first().waitFor();
}

const bytesHex = (b64url) => Buffer.from(b64url.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex');

let started = false;
const needStarted = () => {
  if (!started) assert.fail('the meeting did not start (see the first test)');
};

test('chat to everyone and privately: the recipients read it, no frame carries the text or the key', async () => {
  const ada = await person('Ada', { permissions: ['clipboard-read', 'clipboard-write'] });
  // Ada starts the meeting from the start page: her browser makes the key.
  await ada.page.goto(server.url);
  await ada.page.getByLabel('Meeting name').fill(room);
  await ada.page.getByRole('button', { name: 'Start meeting' }).click();
  await ada.page.waitForURL((u) => u.pathname === `/${room}`);
  key = new URL(ada.page.url()).hash.replace(/^#k=/, '');
  assert.match(key, /^[A-Za-z0-9_-]{22}$/);
  await ada.page.getByLabel('Your name').fill('Ada');
  await ada.page.getByRole('button', { name: 'Join meeting' }).click();
  await ada.page.getByRole('figure', { name: 'Ada (you)', exact: true }).waitFor();

  // The invite link carries the key; Grace and Linus open it.
  await ada.page.getByRole('button', { name: 'Copy invite link' }).click();
  const link = await ada.page.evaluate(() => navigator.clipboard.readText());
  assert.equal(link, `${server.url}/${room}#k=${key}`);
  const grace = await person('Grace');
  const linus = await person('Linus');
  await join(grace, link);
  await join(linus, link);
  for (const p of [ada, grace, linus]) {
    await p.page.getByRole('button', { name: /Chat end-to-end encrypted/ }).waitFor();
  }
  started = true;

  // The encryption indicator says what is end-to-end encrypted, and what is not.
  await ada.page.getByRole('button', { name: /Encryption: what is protected/ }).click();
  const info = ada.page.getByRole('dialog', { name: 'Encryption in this meeting' });
  await info.getByText('Chat: end-to-end encrypted. Only people with the meeting key can read it.').waitFor();
  // Media is end-to-end encrypted now (e2ee.test.mjs drives every state of this line).
  await info.getByText('Audio and video: end-to-end encrypted. Only the people in this meeting can see and hear them.').waitFor();
  await info.getByText('Path: through the server.').waitFor();
  await shot(ada.page, 'encryption-desktop');
  await ada.page.keyboard.press('Escape');
  await info.waitFor({ state: 'detached' });

  // To everyone, with a link.
  const group = marker('Treffpunkt');
  secrets.push(group);
  await send(ada.page, `${group} https://example.org/plan`);
  for (const p of [grace, linus]) {
    await p.page.getByRole('button', { name: /Open chat, 1 unread/ }).waitFor();
    await openChat(p.page);
    const msg = chatMessages(p.page).locator('li', { hasText: group });
    await msg.waitFor();
    await msg.getByText('Ada').waitFor();
    const a = msg.getByRole('link', { name: 'https://example.org/plan' });
    assert.equal(await a.getAttribute('href'), 'https://example.org/plan');
    assert.equal(await a.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await a.getAttribute('target'), '_blank');
    assert.match(await msg.locator('time').innerText(), /^\d\d:\d\d/);
  }

  // Privately to Grace: Grace reads it, marked private; Linus never gets it.
  const priv = marker('Nurfuerdich');
  secrets.push(priv);
  await send(ada.page, priv, 'Grace');
  await chatMessages(ada.page).locator('li', { hasText: priv }).getByText('Private to Grace').waitFor();
  const got = chatMessages(grace.page).locator('li', { hasText: priv });
  await got.waitFor();
  await got.getByText('Private, to you').waitFor();
  // And Grace answers privately.
  const reply = marker('Antwort');
  secrets.push(reply);
  await send(grace.page, reply, 'Ada');
  await chatMessages(ada.page).locator('li', { hasText: reply }).waitFor();
  await linus.page.waitForTimeout(1000);
  assert.equal(await chatMessages(linus.page).getByText(priv).count(), 0, 'Linus does not see the private message');
  assert.equal(await chatMessages(linus.page).getByText(reply).count(), 0);

  // HTML stays text.
  const evil = '<img src=x onerror="window.__pwned=1">';
  await send(grace.page, evil);
  const shown = chatMessages(ada.page).locator('li', { hasText: evil });
  await shown.waitFor();
  assert.equal(await chatMessages(ada.page).locator('img').count(), 0);
  assert.equal(await ada.page.evaluate(() => window.__pwned), undefined);

  await shot(grace.page, 'chat-desktop');
  await grace.page.setViewportSize(PHONE);
  await grace.page.waitForTimeout(400);
  await shot(grace.page, 'chat-phone');
  await grace.page.setViewportSize(DESKTOP);
  // Escape closes the panel and puts the focus back on its button.
  await grace.page.getByLabel('Message').press('Escape');
  await grace.page.locator('#chat-panel').waitFor({ state: 'detached' });
  await grace.page.waitForFunction(() => document.activeElement?.getAttribute('data-panel-toggle') === 'chat', null, { timeout: 2000 });
});

test('someone who typed the meeting name gets the key, reads later messages, and the codes match', async () => {
  needStarted();
  const bob = await person('Bob');
  await join(bob, `${server.url}/${room}`);
  // The key arrives by the exchange; the address then shows it.
  await bob.page.getByRole('button', { name: /Chat end-to-end encrypted/ }).waitFor({ timeout: 15000 });
  assert.equal(new URL(bob.page.url()).hash, `#k=${key}`);
  const later = marker('Spaeter');
  secrets.push(later);
  await send(people.Ada.page, later);
  await openChat(bob.page);
  await chatMessages(bob.page).locator('li', { hasText: later }).waitFor();
  // Bob can write to everyone too.
  const fromBob = marker('VonBob');
  secrets.push(fromBob);
  await send(bob.page, fromBob);
  await chatMessages(people.Ada.page).locator('li', { hasText: fromBob }).waitFor();

  // Verification codes: Ada's for Bob equals Bob's for Ada.
  const codeWith = async (page, name) => {
    if ((await page.locator('#people-panel').count()) === 0) await page.getByRole('button', { name: 'Participants' }).click();
    const row = page.locator('#people-panel li.person', { has: page.locator('.person-name', { hasText: new RegExp(`^${name}$`) }) });
    await row.getByText(`Compare this code with ${name}:`).waitFor();
    const code = row.locator('.code-emoji');
    await page.waitForFunction((el) => el && !el.textContent.includes('…'), await code.elementHandle());
    return code.innerText();
  };
  const adaSees = await codeWith(people.Ada.page, 'Bob');
  const bobSees = await codeWith(bob.page, 'Ada');
  assert.equal([...adaSees.trim()].length >= 5, true, adaSees);
  assert.equal(adaSees, bobSees);
  const graceSees = await codeWith(people.Grace.page, 'Bob');
  assert.notEqual(graceSees, adaSees, 'each pair has its own code');
  await shot(bob.page, 'participants-desktop');
  await bob.page.setViewportSize(PHONE);
  await bob.page.waitForTimeout(400);
  await shot(bob.page, 'participants-phone');
  await bob.page.setViewportSize(DESKTOP);
  await bob.page.keyboard.press('Escape');
  await bob.page.locator('#people-panel').waitFor({ state: 'detached' });

  // The same in German, at phone size.
  const linus = people.Linus.page;
  await linus.setViewportSize(PHONE);
  await linus.getByLabel('Language').selectOption('de');
  await linus.getByRole('button', { name: 'Teilnehmende' }).click();
  await linus.locator('#people-panel').getByText('Vergleiche diesen Code mit Bob:').waitFor();
  await shot(linus, 'participants-german-phone');
  await linus.getByRole('button', { name: /Chat öffnen/ }).click();
  await linus.getByLabel('Nachricht').waitFor();
  await shot(linus, 'chat-german-phone');
  await linus.getByRole('button', { name: 'Verschlüsselung: was geschützt ist. Chat Ende-zu-Ende-verschlüsselt' }).click();
  await linus.getByText('Audio und Video: Ende-zu-Ende-verschlüsselt. Nur die Menschen in diesem Meeting können sie sehen und hören.').waitFor();
  await shot(linus, 'encryption-german-phone');
  await linus.keyboard.press('Escape');
  await linus.getByLabel('Sprache').selectOption('en');
  await linus.getByRole('toolbar').getByRole('button', { name: 'Close chat' }).click();
  await linus.setViewportSize(DESKTOP);
});

test('with a different key, messages show "could not decrypt", never garbage', async () => {
  needStarted();
  const other = Buffer.from(Array.from({ length: 16 }, (_, i) => i * 7 + 3)).toString('base64url');
  const eve = await person('Eve');
  await join(eve, `${server.url}/${room}#k=${other}`);
  const text = marker('NurMitSchluessel');
  secrets.push(text);
  await send(people.Ada.page, text);
  await openChat(eve.page);
  await chatMessages(eve.page).getByText('Could not decrypt this message.').waitFor();
  assert.equal(await chatMessages(eve.page).getByText(text).count(), 0);
  // And what Eve writes with her key cannot be read by the others either.
  await send(eve.page, 'hello from the wrong key');
  await chatMessages(people.Ada.page).locator('li', { hasText: 'Could not decrypt this message.' }).waitFor();
  await shot(eve.page, 'chat-could-not-decrypt-desktop');
});

test('no frame carries a message text or the meeting key, and chat frames were really captured', async () => {
  needStarted();
  const hex = bytesHex(key);
  let chatFrames = 0;
  for (const p of Object.values(people)) {
    assert.ok(p.frames.length > 0, `${p.name}: frames captured`);
    for (const f of p.frames) {
      if (f.text.includes('"type":"chat"')) chatFrames++;
      for (const s of secrets) assert.ok(!f.text.includes(s), `${p.name}: ${f.dir} frame contains the plaintext ${s}`);
      assert.ok(!f.text.includes(key), `${p.name}: ${f.dir} frame contains the meeting key`);
      assert.ok(!f.text.toLowerCase().includes(hex), `${p.name}: ${f.dir} frame contains the meeting key in hex`);
    }
  }
  assert.ok(chatFrames >= 10, `chat frames seen: ${chatFrames}`);
  // The key is not kept in the browser's storage either.
  for (const p of Object.values(people)) {
    const stored = await p.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!stored.includes(key), `${p.name}: key in storage`);
    const keys = await p.page.evaluate(() => Object.keys(localStorage));
    for (const k of keys) assert.ok(['plausch.name', 'plausch.lang', 'plausch.devices'].includes(k), `${p.name}: stores ${k}`);
  }
});

test('every request went to the server\'s own origin; ICE used only loopback', async () => {
  needStarted();
  const wsOrigin = server.url.replace(/^http/, 'ws');
  for (const p of Object.values(people)) {
    assert.deepEqual(p.foreign, [], `${p.name}: requests to other origins`);
    assert.ok(p.sockets.length > 0);
    for (const u of p.sockets) assert.ok(u.startsWith(wsOrigin + '/'), `${p.name}: socket ${u}`);
    const stats = await p.page.evaluate(() => window.__plausch.stats());
    assert.ok(stats.remoteAddresses.length > 0, `${p.name}: remote candidates`);
    for (const a of stats.remoteAddresses) assert.equal(a, '127.0.0.1', `${p.name}: remote ICE candidate ${a}`);
    assert.deepEqual(p.errors, [], `${p.name}: page errors`);
  }
});

test('the privacy page, linked from the start page, in English and German', async () => {
  const { page, context, foreign } = await newPerson(browser, server.url);
  await page.goto(server.url);
  await page.getByRole('link', { name: 'What this server knows about you' }).click();
  await page.waitForURL(`${server.url}/privacy`);
  await page.getByRole('heading', { name: 'What this server knows about you', level: 1 }).waitFor();
  // A direct call for two shows each the other's IP address: the page says so.
  await page.getByText('each of the two learns the other’s IP address', { exact: false }).waitFor();
  for (const h of ['What the server sees', 'What the server never sees', 'What the server stores', 'What this browser stores', 'How to delete it']) {
    await page.getByRole('heading', { name: h }).waitFor();
  }
  await page.getByText('never logged').waitFor();
  await page.getByText('The meeting key.').waitFor();
  await shot(page, 'privacy-desktop', { fullPage: true });
  await page.setViewportSize(PHONE);
  await shot(page, 'privacy-phone', { fullPage: true });
  await page.setViewportSize(DESKTOP);
  // The button deletes what is stored (here: the language choice).
  await page.getByLabel('Language').selectOption('de');
  await page.getByRole('heading', { name: 'Was dieser Server über dich weiß', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Was der Server nie sieht' }).waitFor();
  await shot(page, 'privacy-german-desktop', { fullPage: true });
  assert.ok((await page.evaluate(() => Object.keys(localStorage))).includes('plausch.lang'));
  await page.getByRole('button', { name: 'Löschen, was Plausch in diesem Browser gespeichert hat' }).click();
  await page.getByText('Gelöscht.').waitFor();
  assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), []);
  // Opened directly, too (the server serves the app at /privacy).
  await page.goto(`${server.url}/privacy`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  assert.deepEqual(foreign, []);
  await context.close();
});
