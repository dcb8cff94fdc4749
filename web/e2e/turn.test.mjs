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
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { joinMeeting, launchBrowser, newPerson, removeNetns, startServer, testNetns, waitForFirstRemoteFrame, waitForVideo } from './harness.mjs';

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

function cgroup2Mount() {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountpoint, type] = line.split(' ');
    if (type === 'cgroup2') return mountpoint;
  }
  return null;
}

function nft(script) {
  const r = spawnSync('nsenter', [`--net=/var/run/netns/${ns}`, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft failed: ${r.stderr || r.error}`);
}

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
  const path = relative('/sys/fs/cgroup', cgroup);
  const level = relative(mount, cgroup).split('/').length;
  nft(`table inet ${TABLE} {
  chain out { type filter hook output priority 0; policy accept; meta l4proto udp socket cgroupv2 level ${level} "${path}" drop ; }
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

/** Keeps every RTCPeerConnection the page makes in window.__pcs, for getStats. */
function keepPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}

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

test('without UDP, a participant joins a meeting of three through TURN over TCP; join to first frame printed next to UDP', async () => {
  const room = `no-udp-${Date.now().toString(36)}`;
  const ada = await person(browser, 'Ada');
  const grace = await person(browser, 'Grace');
  const ursula = await person(blockedBrowser, 'Ursula');
  await joinMeeting(ada.page, server.url, room, 'Ada');
  const tGrace = await joinMeeting(grace.page, server.url, room, 'Grace');
  await waitForFirstRemoteFrame(grace.page);
  const graceMs = Date.now() - tGrace;
  const tUrsula = await joinMeeting(ursula.page, server.url, room, 'Ursula');
  await waitForFirstRemoteFrame(ursula.page, 30000);
  const ursulaMs = Date.now() - tUrsula;
  console.log(`join to first frame: UDP (Grace) ${graceMs} ms, TURN over TCP without UDP (Ursula) ${ursulaMs} ms`);

  for (const [viewer, others] of [
    [ursula, ['Ada', 'Grace']],
    [ada, ['Grace', 'Ursula']],
    [grace, ['Ada', 'Ursula']],
  ]) {
    for (const o of others) await waitForVideo(viewer.page, o, 30000);
  }
  const paths = await selectedPaths(ursula.page);
  console.log(`Ursula's connections: ${JSON.stringify(paths)}; Ada's: ${JSON.stringify(await selectedPaths(ada.page))}`);
  assert.ok(paths.length >= 2, `Ursula's publish and subscribe connections are up: ${JSON.stringify(paths)}`);
  for (const p of paths) assert.deepEqual({ type: p.type, relayProtocol: p.relayProtocol }, { type: 'relay', relayProtocol: 'tcp' });
  for (const p of [ada, grace, ursula]) {
    assert.deepEqual(p.errors, [], `${p.name}: no page errors`);
    await p.context.close();
  }
});

test('without UDP and without TURN, a participant joins over TCP to the media port (ICE-TCP)', async () => {
  const room = `ice-tcp-${Date.now().toString(36)}`;
  const ada = await person(browser, 'Ada', tcpServer);
  const grace = await person(browser, 'Grace', tcpServer);
  const ursula = await person(blockedBrowser, 'Ursula', tcpServer);
  await joinMeeting(ada.page, tcpServer.url, room, 'Ada');
  const tGrace = await joinMeeting(grace.page, tcpServer.url, room, 'Grace');
  await waitForFirstRemoteFrame(grace.page);
  const graceMs = Date.now() - tGrace;
  const tUrsula = await joinMeeting(ursula.page, tcpServer.url, room, 'Ursula');
  await waitForFirstRemoteFrame(ursula.page, 30000);
  const ursulaMs = Date.now() - tUrsula;
  console.log(`join to first frame: UDP (Grace) ${graceMs} ms, ICE-TCP without UDP (Ursula) ${ursulaMs} ms`);
  for (const o of ['Ada', 'Grace']) await waitForVideo(ursula.page, o, 30000);
  await waitForVideo(ada.page, 'Ursula', 30000);
  const paths = await selectedPaths(ursula.page);
  console.log(`Ursula's connections: ${JSON.stringify(paths)}; Grace's: ${JSON.stringify(await selectedPaths(grace.page))}`);
  assert.ok(paths.length >= 2, `Ursula's publish and subscribe connections are up: ${JSON.stringify(paths)}`);
  // Chromium's local side of an active TCP pair shows as peer-reflexive:
  // its host candidate's port is a placeholder (9) until it connects.
  for (const p of paths) {
    assert.equal(p.protocol, 'tcp', JSON.stringify(p));
    assert.ok(p.type === 'host' || p.type === 'prflx', `a direct TCP connection, not ${p.type}`);
  }
  // The others, who have UDP, use it.
  for (const p of await selectedPaths(grace.page)) assert.equal(p.protocol, 'udp');
  for (const p of [ada, grace, ursula]) {
    assert.deepEqual(p.errors, [], `${p.name}: no page errors`);
    await p.context.close();
  }
});
