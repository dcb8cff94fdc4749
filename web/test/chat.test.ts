import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChatStore, shownTime } from '../src/chat';
import { toBase64url } from '../src/crypto/encoding';
import { fragment, inviteLink, parseFragment } from '../src/fragment';
import { linkify, safeHref } from '../src/linkify';

test('links: only http and https, trailing punctuation stays text, HTML stays text', () => {
  assert.deepEqual(linkify('see https://example.org/a?b=1.'), [
    { kind: 'text', text: 'see ' },
    { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
    { kind: 'text', text: '.' },
  ]);
  assert.deepEqual(linkify('(http://x.org/wiki/A_(b))'), [
    { kind: 'text', text: '(' },
    { kind: 'link', text: 'http://x.org/wiki/A_(b)', href: 'http://x.org/wiki/A_(b)' },
    { kind: 'text', text: ')' },
  ]);
  const evil = '<img src=x onerror=alert(1)> javascript:alert(1) data:text/html,hi ftp://x.org';
  assert.deepEqual(linkify(evil), [{ kind: 'text', text: evil }]);
  assert.deepEqual(linkify('https://'), [{ kind: 'text', text: 'https://' }]);
  assert.deepEqual(linkify('a "https://x.org/<b>" b').map((s) => s.kind), ['text', 'link', 'text']);
  assert.deepEqual(linkify(''), []);
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('HTTPS://EXAMPLE.org'), 'https://example.org/');
});

test('chat store: order, unread only while closed and only from others, update in place', () => {
  const c = new ChatStore();
  let changes = 0;
  c.subscribe(() => changes++);
  const a = c.add({ from: 'g', fromName: 'Grace', self: false, text: null, problem: 'nokey', ts: 1 });
  c.add({ from: 'me', fromName: 'Ada', self: true, text: 'hi', ts: 2 });
  assert.equal(c.unread, 1);
  c.update(a, { text: 'hello' });
  assert.equal(c.messages[0]!.text, 'hello');
  assert.equal(c.messages[0]!.problem, undefined);
  assert.deepEqual(c.messages.map((m) => m.id), [a, a + 1]);
  c.setOpen(true);
  assert.equal(c.unread, 0);
  c.add({ from: 'g', fromName: 'Grace', self: false, text: 'x', ts: 3 });
  assert.equal(c.unread, 0, 'read while open');
  c.setOpen(false);
  c.add({ from: 'g', fromName: 'Grace', self: false, text: 'y', ts: 4, to: 'me', toName: 'Ada' });
  assert.equal(c.unread, 1);
  assert.ok(changes >= 6);
  assert.equal(shownTime(1000, 2000), 1000);
  assert.equal(shownTime(0, 2e12), 2e12, 'a sender clock far off is not believed');
});

test('link fragment: key and password, never anything else', () => {
  const key = new Uint8Array(16).fill(7);
  const k = toBase64url(key);
  assert.deepEqual(parseFragment(`#k=${k}`), { key, password: null });
  assert.deepEqual(parseFragment(`#k=${k}&p=s%26cr%C3%A9t+x`), { key, password: 's&crét+x' });
  assert.deepEqual(parseFragment('#k=short&p='), { key: null, password: null });
  assert.deepEqual(parseFragment(''), { key: null, password: null });
  assert.deepEqual(parseFragment('#p=%E0%A4'), { key: null, password: null });
  assert.equal(fragment(k, null), `#k=${k}`);
  assert.equal(fragment(k, 'a b&c'), `#k=${k}&p=a%20b%26c`);
  assert.equal(fragment(null, null), '');
  assert.equal(inviteLink('https://m.example', 'team-x', k, null), `https://m.example/team-x#k=${k}`);
  const round = parseFragment(fragment(k, 'ä+ b=&#'));
  assert.equal(round.password, 'ä+ b=&#');
});
