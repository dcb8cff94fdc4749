import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_VIEW_VIDEOS, sameView, viewMessage, ViewReporter, type Timers } from '../src/media/view';
import type { ViewMessage } from '../src/protocol';

/** Timers the test advances by hand. */
function fakeTimers(): Timers & { now: number; advance(ms: number): void } {
  let jobs: { at: number; fn: () => void; id: number }[] = [];
  let ids = 0;
  const t = {
    now: 0,
    set(fn: () => void, ms: number): unknown {
      const id = ++ids;
      jobs.push({ at: t.now + ms, fn, id });
      return id;
    },
    clear(h: unknown): void {
      jobs = jobs.filter((j) => j.id !== h);
    },
    advance(ms: number): void {
      const end = t.now + ms;
      for (;;) {
        const due = jobs.filter((j) => j.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        jobs = jobs.filter((j) => j !== due);
        t.now = due.at;
        due.fn();
      }
      t.now = end;
    },
  };
  return t;
}

const cam = (participant: string, width = 640, height = 360) => ({ participant, source: 'camera' as const, width, height });

test('the view message lists each video once, sizes rounded and clamped, in a stable order', () => {
  const m = viewMessage(
    [cam('b', 639.6, 359.4), { participant: 'a', source: 'screen', width: 20000, height: -3 }, cam('a', 320, 180), cam('b', 100, 50)],
    'auto',
  );
  assert.deepEqual(m, {
    type: 'view',
    videos: [
      { participant: 'a', source: 'camera', width: 320, height: 180 },
      { participant: 'a', source: 'screen', width: 8192, height: 0 },
      { participant: 'b', source: 'camera', width: 640, height: 359 },
    ],
    // Auto: as many camera videos as are visible; screens do not count.
    lastN: 2,
  });
  assert.equal(viewMessage([cam('a')], 4).lastN, 4);
  assert.equal(viewMessage([], 'auto').lastN, 0);
  assert.ok(sameView(viewMessage([cam('a'), cam('b')], 9), viewMessage([cam('b'), cam('a')], 9)), 'order of reporting does not matter');
  assert.ok(!sameView(viewMessage([cam('a')], 9), viewMessage([cam('a', 1280, 720)], 9)));
});

test('at most 64 videos: the largest', () => {
  const many = Array.from({ length: 70 }, (_, i) => cam(`p${String(i).padStart(2, '0')}`, 100 + i, 100));
  const m = viewMessage(many, 'auto');
  assert.equal(m.videos.length, MAX_VIEW_VIDEOS);
  assert.ok(!m.videos.some((v) => v.participant === 'p00'), 'the smallest are left out');
  assert.equal(m.lastN, 64);
});

test('changes within 250 ms go out as one message, and only when something changed', () => {
  const timers = fakeTimers();
  const sent: ViewMessage[] = [];
  const r = new ViewReporter((m) => (sent.push(m), true), timers);
  r.set('t1', cam('a'));
  r.set('t2', cam('b'));
  timers.advance(100);
  r.set('t2', cam('b', 320, 180));
  assert.equal(sent.length, 0, 'nothing before the delay');
  timers.advance(150);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]!.videos.map((v) => [v.participant, v.width]), [['a', 640], ['b', 320]]);

  // The same picture again: nothing sent.
  r.set('t2', cam('b', 640, 360));
  r.set('t2', cam('b', 320, 180));
  timers.advance(500);
  assert.equal(sent.length, 1);

  // A tile leaves the screen.
  r.set('t1', null);
  timers.advance(250);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.videos.map((v) => v.participant), ['b']);

  // The setting changes lastN.
  r.setLastN(4);
  timers.advance(250);
  assert.equal(sent.length, 3);
  assert.equal(sent[2]!.lastN, 4);
});

test('a steady stream of changes still sends every 250 ms', () => {
  const timers = fakeTimers();
  const sent: ViewMessage[] = [];
  const r = new ViewReporter((m) => (sent.push(m), true), timers);
  for (let i = 0; i < 20; i++) {
    r.set('t', cam('a', 400 + i * 10, 300));
    timers.advance(50);
  }
  assert.ok(sent.length >= 3 && sent.length <= 5, `sent ${sent.length} in 1 s`);
});

test('a hidden tab sends an empty list; visible again, the tiles come back', () => {
  const timers = fakeTimers();
  const sent: ViewMessage[] = [];
  const r = new ViewReporter((m) => (sent.push(m), true), timers);
  r.set('t1', cam('a'));
  timers.advance(250);
  r.setHidden(true);
  timers.advance(250);
  assert.deepEqual(sent.at(-1)!.videos, []);
  r.setHidden(false);
  timers.advance(250);
  assert.deepEqual(sent.at(-1)!.videos.map((v) => v.participant), ['a']);
  assert.equal(sent.length, 3);
});

test('before we are in the meeting nothing goes out; reset sends the view again', () => {
  const timers = fakeTimers();
  const sent: ViewMessage[] = [];
  let joined = false;
  const r = new ViewReporter((m) => (joined ? (sent.push(m), true) : false), timers);
  r.set('t1', cam('a'));
  timers.advance(300);
  assert.equal(sent.length, 0);
  joined = true;
  r.reset();
  timers.advance(250);
  assert.equal(sent.length, 1);
  // A new connection: the server has forgotten, the same view goes out again.
  r.reset();
  timers.advance(250);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[0], sent[1]);
});

test('an older server that does not know view: no more messages', () => {
  const timers = fakeTimers();
  const sent: ViewMessage[] = [];
  const r = new ViewReporter((m) => (sent.push(m), true), timers);
  r.set('t1', cam('a'));
  timers.advance(250);
  r.disable();
  r.set('t2', cam('b'));
  timers.advance(1000);
  assert.equal(sent.length, 1);
});
