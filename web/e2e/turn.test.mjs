// A participant whose network lets no UDP through joins through the
// built-in TURN (issue 11), in real Chromium against the real server.
//
// How: Ursula's browser runs in a cgroup of its own, and an nftables table
// in the test namespace drops every UDP packet her browser sends (as a
// school or company firewall does). Ada and Grace have their network. The
// server runs its media on one UDP port and TURN on 127.0.0.1:3478 (UDP
// and TCP); Ursula's only way in is TURN over TCP, which the test checks
// in her connections' selected candidate pairs. A second server has no
// TURN but takes media over TCP on its media port (ICE-TCP), which is then
// her way in. Printed: each one's time from "Join meeting" to the first
// decoded remote frame, UDP next to TURN and next to ICE-TCP.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  cgroup2Mount,
  cgroupMatch,
  joinMeeting,
  keepPeerConnections,
  launchBrowser,
  newPerson,
  nft,
  removeNetns,
  startServer,
  testNetns,
  waitForFirstRemoteFrame,
  waitForVideo,
} from './harness.mjs';

const TURN_PORT = 3478;
// A fixed port in the test's own namespace, where nothing else listens.
const MEDIA_PORT = 50000;
const TABLE = 'plausch_no_udp';

let server;
let tcpServer; // no TURN, media over TCP on one port (ICE-TCP)
let browser;
let blockedBrowser;
let cgroup = null;
let ns = null;

before(async () => {
  server = await startServer(['--udp-port', String(MEDIA_PORT), '--turn-addr', `127.0.0.1:${TURN_PORT}`]);
  tcpServer = await startServer(['--udp-port', String(MEDIA_PORT + 1), '--tcp-port', String(MEDIA_PORT + 1)], { addr: '127.0.0.1:0' });
  browser = await launchBrowser();
  ns = testNetns();
  const mount = cgroup2Mount();
  if (!ns || !mount) throw new Error('this test needs its network namespace (root, iproute2) and cgroup v2');
  cgroup = join(mount, `plausch-e2e-turn-${process.pid}`);
  mkdirSync(cgroup, { recursive: true });
  blockedBrowser = await launchBrowser({ cgroup });
  nft(`table inet ${TABLE} {
  chain out { type filter hook output priority 0; policy accept; meta l4proto udp ${cgroupMatch(cgroup)} drop ; }
}
`);
});

after(async () => {
  if (ns) spawnSync('nsenter', [`--net=/var/run/netns/${ns}`, 'nft', 'delete', 'table', 'inet', TABLE], { stdio: 'ignore' });
  await blockedBrowser?.close();
  await browser?.close();
  await server?.stop();
  await tcpServer?.stop();
  if (cgroup && existsSync(cgroup)) {
    try {
      rmdirSync(cgroup);
    } catch {
      // a process still in it; the directory goes with the machine
    }
  }
  removeNetns();
});

/** The selected candidate pairs' local side of every open connection: type and, for relay, the protocol to TURN. */
function selectedPaths(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const stats = await pc.getStats();
      for (const s of stats.values()) {
        if (s.type !== 'transport' || !s.selectedCandidatePairId) continue;
        const pair = stats.get(s.selectedCandidatePairId);
        const local = stats.get(pair.localCandidateId);
        out.push({ type: local.candidateType, relayProtocol: local.relayProtocol ?? null, protocol: local.protocol });
      }
    }
    return out;
  });
}

async function person(b, name, srv = server) {
  const p = await newPerson(b, srv.url);
  await p.context.addInitScript(keepPeerConnections);
  p.name = name;
  return p;
}

/**
 * Ada and Grace (with UDP) and Ursula (without) meet on srv; each sees the
 * others' video. Prints join to first frame, Grace's (UDP) next to
 * Ursula's (by `path`), and returns the three and Ursula's selected paths.
 */
async function meetWithoutUDP(srv, room, path) {
  const ada = await person(browser, 'Ada', srv);
  const grace = await person(browser, 'Grace', srv);
  const ursula = await person(blockedBrowser, 'Ursula', srv);
  await joinMeeting(ada.page, srv.url, room, 'Ada');
  const tGrace = await joinMeeting(grace.page, srv.url, room, 'Grace');
  await waitForFirstRemoteFrame(grace.page);
  const graceMs = Date.now() - tGrace;
  const tUrsula = await joinMeeting(ursula.page, srv.url, room, 'Ursula');
  await waitForFirstRemoteFrame(ursula.page, 30000);
  const ursulaMs = Date.now() - tUrsula;
  console.log(`join to first frame: UDP (Grace) ${graceMs} ms, ${path} without UDP (Ursula) ${ursulaMs} ms`);
  for (const [viewer, others] of [
    [ursula, ['Ada', 'Grace']],
    [ada, ['Grace', 'Ursula']],
    [grace, ['Ada', 'Ursula']],
  ]) {
    for (const o of others) await waitForVideo(viewer.page, o, 30000);
  }
  const paths = await selectedPaths(ursula.page);
  console.log(`Ursula's connections: ${JSON.stringify(paths)}; Grace's: ${JSON.stringify(await selectedPaths(grace.page))}`);
  assert.ok(paths.length >= 2, `Ursula's publish and subscribe connections are up: ${JSON.stringify(paths)}`);
  return { people: [ada, grace, ursula], grace, paths };
}

async function leave(people) {
  for (const p of people) {
    assert.deepEqual(p.errors, [], `${p.name}: no page errors`);
    await p.context.close();
  }
}

test('without UDP, a participant joins a meeting of three through TURN over TCP; join to first frame printed next to UDP', async () => {
  const { people, paths } = await meetWithoutUDP(server, `no-udp-${Date.now().toString(36)}`, 'TURN over TCP');
  for (const p of paths) assert.deepEqual({ type: p.type, relayProtocol: p.relayProtocol }, { type: 'relay', relayProtocol: 'tcp' });
  await leave(people);
});

test('without UDP and without TURN, a participant joins over TCP to the media port (ICE-TCP)', async () => {
  const { people, grace, paths } = await meetWithoutUDP(tcpServer, `ice-tcp-${Date.now().toString(36)}`, 'ICE-TCP');
  // Chromium's local side of an active TCP pair shows as peer-reflexive:
  // its host candidate's port is a placeholder (9) until it connects.
  for (const p of paths) {
    assert.equal(p.protocol, 'tcp', JSON.stringify(p));
    assert.ok(p.type === 'host' || p.type === 'prflx', `a direct TCP connection, not ${p.type}`);
  }
  // The others, who have UDP, use it.
  for (const p of await selectedPaths(grace.page)) assert.equal(p.protocol, 'udp');
  await leave(people);
});
