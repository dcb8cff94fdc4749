import { joinMeeting, launchBrowser, newPerson, removeNetns, startServer, waitForVideo, DESKTOP, PHONE } from './harness.mjs';
const server = await startServer();
const browser = await launchBrowser({ cameraFile: false });
const room = `dbg-${Date.now().toString(36)}`;
function keep() { const N = window.RTCPeerConnection; window.__pcs = []; window.RTCPeerConnection = class extends N { constructor(...a) { super(...a); window.__pcs.push(this); } }; }
const people = {};
const t0 = Date.now();
try {
  for (const name of ['Ada', 'Grace', 'Linus']) {
    people[name] = await newPerson(browser, server.url);
    await people[name].context.addInitScript(keep);
    if (name === 'Ada') people[name].page.on('websocket', (ws) => {
      ws.on('framereceived', (f) => { const s = String(f.payload); if (/"(forwarded|dominant)"/.test(s)) console.log((Date.now() - t0) / 1000, 'recv', s.slice(0, 400)); });
      ws.on('framesent', (f) => { const s = String(f.payload); if (/"view"/.test(s)) console.log((Date.now() - t0) / 1000, 'sent', s.slice(0, 400)); });
    });
    await joinMeeting(people[name].page, server.url, room, name);
    await people[name].page.getByRole('figure', { name: `${name} (you)` }).waitFor();
  }
  await waitForVideo(people.Ada.page, 'Grace');
  for (const n of ['Ada', 'Linus']) await people[n].page.getByRole('button', { name: 'Mute microphone' }).click();
  const ids = await people.Ada.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('figure.camera-tile')].map((f) => [f.dataset.participant, f.getAttribute('aria-label')])));
  console.log(ids);
  const graceStats = () => people.Grace.page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) { if (pc.connectionState === 'closed') continue;
      for (const r of (await pc.getStats()).values()) {
        if (r.type === 'outbound-rtp' && r.kind === 'video') out.push(`${r.rid}:${r.frameWidth ?? 0}:${r.framesEncoded}:${r.qualityLimitationReason}`);
        if (r.type === 'candidate-pair' && r.nominated && r.availableOutgoingBitrate) out.push(`aob${window.__pcs.indexOf(pc)}=${r.availableOutgoingBitrate}`);
      } }
    return out.join(' ');
  });
  await people.Ada.page.setViewportSize(PHONE);
  for (let i = 0; i < 5; i++) { await people.Ada.page.waitForTimeout(2000); console.log((Date.now() - t0) / 1000, 'grace', await graceStats()); }
  await people.Ada.page.setViewportSize(DESKTOP);
  await people.Ada.page.getByRole('button', { name: 'Speaker view' }).click();
  for (let i = 0; i < 10; i++) { await people.Ada.page.waitForTimeout(2000); console.log((Date.now() - t0) / 1000, 'grace', await graceStats());
    console.log('ada sees', await people.Ada.page.evaluate(() => [...document.querySelectorAll('.stage figure')].map((f) => `${f.getAttribute('aria-label')} fwd=${f.dataset.forwarded} video=${!!f.querySelector('video')} ${f.querySelector('video')?.videoWidth}`).join())); }
} finally {
  await browser.close();
  await server.stop();
  removeNetns();
}
