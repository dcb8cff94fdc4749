import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, MediaWatch, MEDIA_GRACE_MS, Reconnector, RECONNECT_BACKOFF, shouldReconnect, type Clock, type Outcome } from '../src/reconnect';
import { parseServerMessage } from '../src/signal';

test('backoff doubles from 0.5 s to 10 s', () => {
  const mid = (): number => 0.5; // no jitter
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(n, RECONNECT_BACKOFF, mid)),
    [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000],
  );
  assert.equal(backoffDelay(-3, RECONNECT_BACKOFF, mid), 500);
});

test('backoff jitter stays within +-30 %', () => {
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, () => 0), 350);
  assert.equal(backoffDelay(0, RECONNECT_BACKOFF, () => 0.999999), 650);
  assert.equal(backoffDelay(9, RECONNECT_BACKOFF, () => 0), 7000);
  assert.equal(backoffDelay(9, RECONNECT_BACKOFF, () => 0.999999), 13000);
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(2);
    assert.ok(d >= 1400 && d <= 2600, `${d}`);
  }
});

test('which closes are worth a reconnect', () => {
  const info = (code: number, byUs = false) => ({ code, reason: '', byUs, neverOpened: false });
  assert.equal(shouldReconnect(info(1006), null), true, 'broken connection');
  assert.equal(shouldReconnect(info(4002), null), true, 'server restart');
  assert.equal(shouldReconnect(info(1001), null), true, 'server going away');
  assert.equal(shouldReconnect(info(1000), null), false, 'left');
  assert.equal(shouldReconnect(info(1006, true), null), false, 'closed by us');
  assert.equal(shouldReconnect(info(4001), 'removed'), false, 'removed');
  assert.equal(shouldReconnect(info(1006), 'lobby_timeout'), false, 'nobody let us in');
  assert.equal(shouldReconnect(info(1006), 'ended'), false, 'meeting ended');
  assert.equal(shouldReconnect(info(4000), 'bad_sdp'), false, 'protocol error');
  assert.equal(shouldReconnect(info(4003), null), false, 'continued on another connection');
});

/** A clock whose time moves only when the test says so. */
class FakeClock implements Clock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = (): number => this.t;
  random = (): number => 0.5;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown): void => {
    this.timers.delete(id as number);
  };
  /** Moves time on, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A Reconnector whose attempts answer from a script and are logged with their time. */
function scripted(outcomes: Outcome[], giveUpMs = 120000) {
  const clock = new FakeClock();
  const log: { at: number; fresh: boolean }[] = [];
  let changes = 0;
  const r = new Reconnector(
    {
      attempt: async (fresh) => {
        log.push({ at: clock.t, fresh });
        return outcomes.shift() ?? 'retry';
      },
      changed: () => changes++,
    },
    clock,
    giveUpMs,
  );
  return { r, clock, log, changes: () => changes };
}

test('reconnects at once, then backs off; resume first, join after resume_failed', async () => {
  const { r, clock, log } = scripted(['retry', 'retry', 'fresh', 'retry', 'ok']);
  r.lost();
  assert.equal(r.state, 'reconnecting');
  await clock.advance(0);
  assert.deepEqual(log, [{ at: 0, fresh: false }]);
  await clock.advance(499);
  assert.equal(log.length, 1, 'waits 0.5 s');
  await clock.advance(1);
  assert.deepEqual(log[1], { at: 500, fresh: false });
  // 1 s later: resume_failed, and the fresh join follows at once.
  await clock.advance(1000);
  assert.deepEqual(log.slice(2), [
    { at: 1500, fresh: false },
    { at: 1500, fresh: true },
  ]);
  await clock.advance(2000);
  assert.deepEqual(log[4], { at: 3500, fresh: true }, 'joins again, not resume, after resume_failed');
  assert.equal(r.state, 'up');
  r.lost();
  await clock.advance(0);
  assert.deepEqual(log[5], { at: 3500, fresh: false }, 'a new loss resumes first again');
});

test('gives up after the time limit, and Rejoin starts a new round', async () => {
  const { r, clock, log, changes } = scripted([], 20000);
  r.lost();
  await clock.advance(30000);
  assert.equal(r.state, 'failed');
  const tries = log.length;
  assert.ok(tries >= 4 && tries <= 8, `${tries} attempts in 20 s`);
  await clock.advance(60000);
  assert.equal(log.length, tries, 'no attempts after giving up');
  r.lost();
  await clock.advance(1000);
  assert.equal(log.length, tries, 'another loss does not restart it either');
  const before = changes();
  r.now();
  await clock.advance(0);
  assert.equal(r.state, 'reconnecting');
  assert.equal(log.length, tries + 1);
  assert.ok(changes() > before);
});

test('the network coming back cuts the wait short', async () => {
  const { r, clock, log } = scripted(['retry', 'retry', 'retry', 'retry', 'retry']);
  r.lost();
  await clock.advance(500 + 1000 + 2000 + 1);
  assert.equal(log.length, 4);
  // Now waiting 4 s; the network is back after 1 s.
  await clock.advance(1000);
  r.now();
  await clock.advance(0);
  assert.equal(log.length, 5);
  assert.equal(log[4]!.at, 4501);
  // The next wait starts small again.
  await clock.advance(500);
  assert.equal(log.length, 6);
});

test('stop ends the attempts', async () => {
  const { r, clock, log } = scripted([]);
  r.lost();
  await clock.advance(0);
  r.stop();
  await clock.advance(60000);
  assert.equal(log.length, 1);
});

test('media: disconnected for a few seconds or failed means an ICE restart, repeated with backoff', () => {
  const w = new MediaWatch(() => 0.5);
  assert.equal(w.check(['connected', 'connected'], 0), false);
  assert.equal(w.check(['new'], 0), false, 'still starting');
  assert.equal(w.check(['connected', 'disconnected'], 1000), false);
  assert.equal(w.check(['connected', 'disconnected'], 1000 + MEDIA_GRACE_MS - 1), false, 'a short hiccup is let be');
  assert.equal(w.broken, false);
  assert.equal(w.check(['connected', 'disconnected'], 1000 + MEDIA_GRACE_MS), true);
  assert.equal(w.broken, true);
  // Restarting: connecting still counts as broken; the next restart after 2 s, then 4 s.
  assert.equal(w.check(['connecting', 'connecting'], 5000), false);
  assert.equal(w.broken, true);
  assert.equal(w.check(['connecting', 'disconnected'], 6000), true);
  assert.equal(w.check(['failed', 'disconnected'], 9000), false);
  assert.equal(w.check(['failed', 'disconnected'], 10000), true);
  // Mended.
  assert.equal(w.check(['connected', 'connected'], 11000), false);
  assert.equal(w.broken, false);
  // Failed restarts at once; the backoff starts again from its beginning.
  assert.equal(w.check(['failed'], 12000), true);
  assert.equal(w.check(['failed'], 13999), false);
  assert.equal(w.check(['failed'], 14000), true);
});

test('media: a disconnect that heals by itself gets one restart; a blink does not', () => {
  const w = new MediaWatch(() => 0.5);
  assert.equal(w.check(['disconnected'], 0), false);
  assert.equal(w.check(['connected'], 500), false, 'a blink');
  assert.equal(w.check(['disconnected'], 1000), false);
  assert.equal(w.check(['disconnected'], 2500), false);
  assert.equal(w.broken, false);
  assert.equal(w.check(['connected'], 3000), true, 'healed after 2 s: restart and see whether the socket survived');
  assert.equal(w.check(['connected'], 4000), false);
});

test('media: no second restart right after the one a resume made', () => {
  const w = new MediaWatch(() => 0.5);
  w.restarted(0);
  assert.equal(w.check(['failed'], 100), false);
  assert.equal(w.check(['failed'], 2000), true);
});

test('parses resume, reconnecting and server.draining', () => {
  const joined = parseServerMessage(
    '{"type":"joined","id":"a","resume":"N2Q5YzYxMTk0ZGI2NDk1ZA","participants":[{"id":"b","name":"B","reconnecting":true},{"id":"c","name":"C","reconnecting":false}]}',
  );
  assert.ok(joined && joined.type === 'joined');
  assert.equal(joined.resume, 'N2Q5YzYxMTk0ZGI2NDk1ZA');
  assert.equal(joined.participants[0]!.reconnecting, true);
  assert.equal(joined.participants[1]!.reconnecting, undefined);
  const plain = parseServerMessage('{"type":"joined","id":"a","participants":[]}');
  assert.ok(plain && plain.type === 'joined' && plain.resume === undefined);
  const upd = parseServerMessage('{"type":"participant.updated","participant":{"id":"b","name":"B","reconnecting":true}}');
  assert.ok(upd && upd.type === 'participant.updated' && upd.participant.reconnecting === true);
  assert.deepEqual(parseServerMessage('{"type":"server.draining","seconds":30}'), { type: 'server.draining', seconds: 30 });
  assert.deepEqual(parseServerMessage('{"type":"server.draining"}'), { type: 'server.draining', seconds: 0 });
});
