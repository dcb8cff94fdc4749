import { joinMeeting, launchBrowser, newPerson, removeNetns, shot, startServer } from './harness.mjs';
const server = await startServer();
const browser = await launchBrowser();
const room = `dbg-${Date.now().toString(36)}`;
const people = {};
try {
  for (const name of ['Ada', 'Grace', 'Linus']) {
    people[name] = await newPerson(browser, server.url);
    const { page } = people[name];
    page.on('console', (m) => console.log(name, 'console', m.type(), m.text().slice(0, 300)));
    page.on('websocket', (ws) => ws.on('framesent', (f) => { if (String(f.payload).includes('"view"')) console.log(name, 'sent', String(f.payload).slice(0, 300)); }));
    await joinMeeting(page, server.url, room, name);
    await page.getByRole('figure', { name: `${name} (you)` }).waitFor();
    await page.waitForTimeout(3000);
  }
  await page_wait();
  async function page_wait() {
    await people.Ada.page.waitForTimeout(4000);
    for (const n of Object.keys(people)) {
      const figs = await people[n].page.evaluate(() => [...document.querySelectorAll('figure')].map((f) => `${f.getAttribute('aria-label')} ${f.getBoundingClientRect().width}x${f.getBoundingClientRect().height} video=${!!f.querySelector('video')}`));
      console.log(n, figs);
      await shot(people[n].page, `dbg-${n}`);
    }
  }
} finally {
  await browser.close();
  await server.stop();
  console.log(server.logs.join('').slice(-3000));
  removeNetns();
}
