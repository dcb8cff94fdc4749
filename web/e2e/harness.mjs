// Shared setup of the browser tests: builds and starts the real server on a
// free loopback port, launches Debian's Chromium with fake camera and
// microphone, and joins meetings the way a person does (by labels and roles).

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
const tmp = join(here, '.tmp');
export const screenshotDir = join(here, 'screenshots');

/*
 * Network isolation. Chromium gathers ICE candidates on every interface, and
 * a check it sends from this machine's own external address to the server's
 * 127.0.0.1 makes the server answer (and send media) to that address. Tests
 * must keep to loopback, so the server and the browsers run in a network
 * namespace of their own that has nothing but `lo`. (Needs root, as CI has;
 * PLAUSCH_E2E_NETNS=0 runs without it and only filters the signalled
 * candidates, which is not enough to keep all traffic on loopback.)
 */
const useNetns = process.env.PLAUSCH_E2E_NETNS !== '0';
let netns = null;

function ensureNetns() {
  if (!useNetns || netns) return netns;
  const name = `plausch-e2e-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (add.status !== 0) {
    throw new Error(`cannot create network namespace ${name} (${(add.stderr || add.error || '').toString().trim()}); run as root, or set PLAUSCH_E2E_NETNS=0`);
  }
  netns = name;
  process.once('exit', removeNetns);
  const up = spawnSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  if (up.status !== 0) throw new Error('cannot bring up lo in the test namespace');
  return netns;
}

/** Deletes the namespace (called when the test file is done). */
export function removeNetns() {
  if (!netns) return;
  spawnSync('ip', ['netns', 'del', netns]);
  netns = null;
}

/** The test namespace's name (null when the tests run without one). */
export function testNetns() {
  return ensureNetns();
}

/** The command line that runs argv inside the test namespace (or as it is). */
function inNetns(argv) {
  const ns = ensureNetns();
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
}

/**
 * Builds cmd/plausch and starts `plausch serve` on 127.0.0.1:0; resolves with
 * its URL. `opts.addr` (host:port) starts it on that address instead, e.g. a
 * new server in place of one stopped (then nothing is built again).
 */
export async function startServer(extraArgs = [], opts = {}) {
  mkdirSync(tmp, { recursive: true });
  const bin = join(tmp, 'plausch');
  if (!opts.addr || !existsSync(bin)) {
    const built = spawnSync('go', ['build', '-o', bin, './cmd/plausch'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    if (built.status !== 0) throw new Error('go build ./cmd/plausch failed');
  }
  const [cmd, ...args] = inNetns([bin, 'serve', '--addr', opts.addr ?? '127.0.0.1:0', '--ice-loopback', ...extraArgs]);
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  proc.stderr.on('data', (d) => {
    logs.push(String(d));
    if (logs.length > 500) logs.shift();
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('server did not print its URL in 15 s')), 15000);
    proc.stdout.on('data', (d) => {
      out += String(d);
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}): ${logs.join('')}`));
    });
  });
  return {
    url,
    logs,
    /** Stops the server (SIGTERM drains; SIGKILL is a crash) and waits until it is gone. */
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A 640x360 test picture for the fake camera, when ffmpeg is there (else Chromium's own fake picture). */
function fakeVideoFile() {
  const file = join(tmp, 'camera.y4m');
  if (existsSync(file)) return file;
  const r = spawnSync(
    'ffmpeg',
    ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=20', '-t', '4', '-pix_fmt', 'yuv420p', file],
    { stdio: 'ignore' },
  );
  return r.status === 0 && existsSync(file) ? file : null;
}

/** A voice-like test sound for the fake microphone: a tone that comes and goes, like speech. */
function fakeAudioFile() {
  const file = join(tmp, 'microphone.wav');
  if (existsSync(file)) return file;
  const r = spawnSync(
    'ffmpeg',
    [
      '-loglevel', 'error', '-y', '-f', 'lavfi',
      '-i', "aevalsrc='0.5*sin(2*PI*220*t)*(0.6+0.4*sin(2*PI*3*t))':s=48000:d=4",
      '-ac', '1', '-c:a', 'pcm_s16le', file,
    ],
    { stdio: 'ignore' },
  );
  return r.status === 0 && existsSync(file) ? file : null;
}

/** What the fake devices play; the speaking test needs the steady tone, not Chromium's short beeps. */
export const media = { toneAudio: false };

/**
 * Runs `plausch <args>` (the binary startServer built) in the test namespace,
 * as the server runs; resolves with its stdout.
 */
export function runPlausch(args, timeoutMs = 60000) {
  const [cmd, ...rest] = inNetns([join(tmp, 'plausch'), ...args]);
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => (out += String(d)));
    proc.stderr.on('data', (d) => (err += String(d)));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`plausch ${args[0]} exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

/**
 * Starts `plausch <args>` in the test namespace and leaves it running (e.g.
 * silent `probe` participants that fill a meeting); stop() ends it.
 */
export function startPlausch(args) {
  const [cmd, ...rest] = inNetns([join(tmp, 'plausch'), ...args]);
  const proc = spawn(cmd, rest, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Launches Chromium; `opts.cameraFile === false` keeps Chromium's own fake
 * camera (it does 1280x720). `opts.cgroup` (a cgroup v2 directory) starts the
 * browser and all its processes in that cgroup, so a test can cut its
 * network alone (nftables matches packets by the cgroup of their socket).
 */
export async function launchBrowser(opts = {}) {
  mkdirSync(tmp, { recursive: true });
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ];
  const video = opts.cameraFile === false ? null : fakeVideoFile();
  if (video) args.push(`--use-file-for-fake-video-capture=${video}`);
  const audio = fakeAudioFile();
  if (audio) args.push(`--use-file-for-fake-audio-capture=${audio}`);
  media.toneAudio = audio !== null;
  let executablePath = '/usr/bin/chromium';
  const ns = ensureNetns();
  if (ns) {
    // playwright starts the browser itself; a wrapper puts it in the namespace.
    executablePath = join(tmp, opts.cgroup ? 'chromium-in-netns-cgroup.sh' : 'chromium-in-netns.sh');
    const enter = opts.cgroup ? `echo $$ > '${opts.cgroup}/cgroup.procs' || exit 1\n` : '';
    writeFileSync(executablePath, `#!/bin/sh\n${enter}exec ip netns exec ${ns} /usr/bin/chromium "$@"\n`);
    chmodSync(executablePath, 0o755);
  }
  return chromium.launch({ executablePath, headless: true, args });
}

export const DESKTOP = { width: 1366, height: 768 };
export const PHONE = { width: 390, height: 844 };

/**
 * Without the namespace: each test page signals only its loopback ICE
 * candidates (the app itself sends every candidate, as it must on a real
 * network). This narrows, but does not close, the path to other addresses.
 */
function loopbackOnlyICE() {
  const Native = window.RTCPeerConnection;
  const isLoopback = (candidate) => {
    const addr = candidate.split(' ')[4] ?? '';
    return addr.startsWith('127.') || addr === '::1';
  };
  const strip = (sdp) =>
    sdp
      .split('\r\n')
      .filter((l) => !l.startsWith('a=candidate:') || isLoopback(l.slice(2)))
      .join('\r\n');
  class LoopbackOnlyPeerConnection extends Native {
    set onicecandidate(fn) {
      super.onicecandidate = fn
        ? (ev) => {
            if (!ev.candidate || !ev.candidate.candidate || isLoopback(ev.candidate.candidate)) fn.call(this, ev);
          }
        : null;
    }
    get onicecandidate() {
      return super.onicecandidate;
    }
    get localDescription() {
      const d = super.localDescription;
      return d ? { type: d.type, sdp: strip(d.sdp), toJSON: () => ({ type: d.type, sdp: strip(d.sdp) }) } : d;
    }
  }
  window.RTCPeerConnection = LoopbackOnlyPeerConnection;
}

/**
 * A fresh browser profile (one person). Every request the page makes is
 * recorded, so tests can check nothing leaves the server's origin.
 */
export async function newPerson(browser, origin, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? DESKTOP,
    locale: opts.locale ?? 'en-US',
    colorScheme: opts.colorScheme ?? 'light',
    // Granting more later (clipboard) would end the running camera track.
    permissions: ['camera', 'microphone', ...(opts.permissions ?? [])],
  });
  if (!netns) await context.addInitScript(loopbackOnlyICE);
  const page = await context.newPage();
  const foreign = [];
  page.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return { context, page, foreign, errors };
}

/** Opens the meeting, types the name and presses "Join meeting"; returns when the click happened. */
export async function joinMeeting(page, baseURL, room, name) {
  await page.goto(`${baseURL}/${room}`);
  await page.getByLabel('Your name').fill(name);
  // Wait for the preview, as a person waits to see themselves.
  await page.getByRole('meter', { name: 'Microphone level' }).waitFor();
  await page.locator('.preview video').waitFor({ timeout: 10000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Join meeting' }).click();
  return t0;
}

/** Waits until the named remote tile shows decoded, advancing video. */
export async function waitForVideo(page, label, timeout = 20000) {
  await page.waitForFunction(
    (label) => {
      const fig = [...document.querySelectorAll('figure')].find((f) => f.getAttribute('aria-label') === label);
      const v = fig?.querySelector('video');
      if (!v || v.videoWidth === 0) return false;
      const frames = v.getVideoPlaybackQuality().totalVideoFrames;
      const key = '__frames_' + label;
      const before = window[key];
      window[key] = frames;
      return before !== undefined && frames > before;
    },
    label,
    { timeout, polling: 200 },
  );
}

/** Resolves when some remote camera tile has decoded a frame (for the join-to-first-frame figure). */
export async function waitForFirstRemoteFrame(page, timeout = 20000) {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('figure.camera-tile:not(.self) video')].some(
        (v) => v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 0,
      ),
    null,
    { timeout, polling: 20 },
  );
}

/** Waits until audio arrives: samples decoded on the subscribe connection, played by an <audio> element. */
export async function waitForAudio(page, timeout = 20000) {
  await page.waitForFunction(
    async () => {
      const hook = window.__plausch;
      if (!hook) return false;
      const s = await hook.stats();
      const playing = [...document.querySelectorAll('audio')].some((a) => {
        const tr = a.srcObject?.getAudioTracks?.()[0];
        return tr && tr.readyState === 'live';
      });
      return playing && s.audio.packetsReceived > 0 && s.audio.totalSamplesReceived > 0;
    },
    null,
    { timeout, polling: 250 },
  );
}

export function shot(page, name, opts = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  return page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: opts.fullPage === true });
}

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems); null without it. */
export function cgroup2Mount() {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, mountpoint, type] = line.split(' ');
    if (type === 'cgroup2') return mountpoint;
  }
  return null;
}

/** Runs an nft script in the test namespace (nsenter keeps /sys/fs/cgroup visible, which `ip netns exec` remounts). */
export function nft(script) {
  const r = spawnSync('nsenter', [`--net=/var/run/netns/${ensureNetns()}`, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nft failed: ${r.stderr || r.error}`);
}

/** The nft match for sockets of the cgroup directory `dir`: nft names a cgroup by its path below /sys/fs/cgroup and its depth in the v2 hierarchy. */
export function cgroupMatch(dir) {
  const level = relative(cgroup2Mount(), dir).split('/').length;
  return `socket cgroupv2 level ${level} "${relative('/sys/fs/cgroup', dir)}"`;
}

/** An init script: every peer connection the page makes is kept in window.__pcs, for getStats (the app keeps its own private). */
export function keepPeerConnections() {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
  };
}
