import t from 'tap';
import { createHash } from 'node:crypto';
import { SessionIds, SID_LENGTH, tokenDigestKey } from '../../../src/analytics/session-key.js';

const KEY = Buffer.alloc(32, 3);

t.test('a sid checks against its channel and its key, with no storage', async (t) => {
  const ids = new SessionIds(KEY);
  const sid = ids.mint('news');
  t.match(sid, /^[A-Za-z0-9_-]+$/, 'URL-safe as it is (no escaping in ?sid=…)');
  t.equal(sid.length, SID_LENGTH);
  t.ok(ids.verify(sid, 'news'));
  t.ok(new SessionIds(Buffer.from(KEY)).verify(sid, 'news'), 'another origin with the same key accepts it (behind one CDN)');
  t.notOk(ids.verify(sid, 'sport'), 'not for another channel');
  t.notOk(new SessionIds(Buffer.alloc(32, 4)).verify(sid, 'news'), 'not under another key');
  t.not(ids.mint('news'), sid, 'each mint is new');
  for (let i = 0; i < sid.length; i++) {
    const c = sid[i] === 'A' ? 'B' : 'A';
    if (ids.verify(sid.slice(0, i) + c + sid.slice(i + 1), 'news')) t.fail(`a change at ${i} passed`);
  }
  t.notOk(ids.verify(sid + 'A', 'news'), 'longer');
  t.notOk(ids.verify(sid.slice(1), 'news'), 'shorter');
  t.notOk(ids.verify('', 'news'));
});

t.test('one spelling per sid: a non-canonical last base64url character is refused', async (t) => {
  const ids = new SessionIds(KEY);
  // 8 tag bytes are 64 bits in 11 characters (66 bits): the last character's 2 low bits are padding.
  let refusedAliases = 0;
  for (let n = 0; n < 20; n++) {
    const sid = ids.mint('news');
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const i = last.indexOf(sid[sid.length - 1]);
    const alias = sid.slice(0, -1) + last[i ^ 1];
    t.same(Buffer.from(alias.slice(16), 'base64url'), Buffer.from(sid.slice(16), 'base64url'), 'the alias decodes to the same tag');
    if (!ids.verify(alias, 'news')) refusedAliases++;
  }
  t.equal(refusedAliases, 20);
});

t.test('a token without jti: a digest of the whole token', async (t) => {
  t.equal(tokenDigestKey('a.b.c'), createHash('sha256').update('a.b.c').digest().subarray(0, 16).toString('base64url'));
  t.not(tokenDigestKey('a.b.c'), tokenDigestKey('a.b.d'), 'two tokens, two sessions');
});
