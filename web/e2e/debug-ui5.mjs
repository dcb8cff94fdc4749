import { joinMeeting, launchBrowser, newPerson, removeNetns, startServer, waitForVideo } from './harness.mjs';
const server = await startServer();
const browser = await launchBrowser({ cameraFile: false });
const room = `dbg-${Date.now().toString(36)}`;
function keep() { const N = window.RTCPeerConnection; window.__pcs = []; window.RTCPeerConnection = class extends N { constructor(...a) { super(...a); window.__pcs.push(this); } }; }
const people = {};
try {
  for (const name of ['Ada', 'Grace', 'Linus']) {
    people[name] = await newPerson(browser, server.url);
    await people[name].context.addInitScript(keep);
    await joinMeeting(people[name].page, server.url, room, name);
    await people[name].page.getByRole('figure', { name: `${name} (you)` }).waitFor();
  }
  await waitForVideo(people.Ada.page, 'Grace');
  for (let i = 0; i < 6; i++) {
    await people.Ada.page.waitForTimeout(2000);
    const r = await people.Grace.page.evaluate(async () => {
      const out = [];
      for (const pc of window.__pcs) {
        if (pc.connectionState === 'closed') continue;
        for (const r of (await pc.getStats()).values()) {
          if (r.type === 'outbound-rtp' && r.kind === 'video') out.push({ rid: r.rid, w: r.frameWidth, enc: r.framesEncoded, q: r.qualityLimitationReason, tb: r.targetBitrate, fps: r.framesPerSecond });
          if (r.type === 'candidate-pair' && r.nominated) out.push({ pc: window.__pcs.indexOf(pc), aob: r.availableOutgoingBitrate });
        }
      }
      return out;
    });
    console.log(JSON.stringify(r));
  }
} finally {
  await browser.close();
  await server.stop();
  removeNetns();
}
