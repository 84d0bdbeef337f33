'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const p = require('..');
const { E, skip, client } = require('../support/env');

const live = { skip: skip('PANTHERA_URL', 'PANTHERA_API_KEY', 'PANTHERA_API_SECRET') };

test('every algo in JSON and XML gives the same objects', live, async () => {
  const seen = [];
  for (const algo of ['sha1', 'sha256', 'sha512']) {
    for (const format of ['json', 'xml']) {
      const v = await client({ algo, format }).call('host-info');
      seen.push(Object.keys(v).sort().join(','));
    }
  }
  assert.ok(seen.every((s) => s === seen[0]), seen.join(' | '));
});

test('a clock-skewed request is refused, then corrected', live, async () => {
  const shift = Number(E.PANTHERA_CLOCK_SHIFT || 0);
  if (shift) {
    await assert.rejects(client({ correctClock: false }).call('host-info'), (e) => {
      assert.ok(e instanceof p.AuthenticationError, e.name);
      assert.equal(e.status, 403);
      assert.equal(e.fatal, true);
      assert.match(e.serverMessage, /server time is/);
      assert.ok(e.requestId);
      return true;
    });
  }
  const c = client();
  await c.call('host-info');
  await c.call('host-info');
  assert.equal(c.clockCorrections, shift ? 1 : 0);
  assert.ok(Math.abs(c.clockOffset - shift) <= 5, String(c.clockOffset));
});

test('errors are typed and carry the request id', live, async () => {
  const c = client();
  await assert.rejects(c.call('download-image-preview', { id_media: '999999' }), (e) => {
    assert.ok(e instanceof p.NotFoundError);
    assert.equal(e.status, 404);
    assert.equal(e.fatal, false);
    assert.match(e.serverMessage, /not found/);
    assert.ok(e.requestId);
    return true;
  });
  await assert.rejects(c.call('no-such-method'), (e) => e instanceof p.NotFoundError && e.fatal);
  const bad = client({ apiSecret: 'wrong-secret' });
  bad.clockOffset = c.clockOffset;
  await assert.rejects(bad.call('host-info'), (e) => e instanceof p.AuthenticationError && e.status === 403);
});

test('files download as bytes', live, async () => {
  const c = client();
  const data = await c.download('download-image-preview', { id_media: '2' });
  assert.deepEqual([...data.subarray(0, 2)], [0xff, 0xd8]);
  const v = await c.call('download-image-preview', { id_media: '2' });
  assert.ok(Buffer.from(v.media.base64, 'base64').equals(data));
  const file = await c.fetchFile(`${E.PANTHERA_URL}/media/preview/2.jpg`);
  assert.deepEqual([...file.subarray(0, 2)], [0xff, 0xd8]);
});

test('the user-token flow', live, async () => {
  const c = client();
  const pending = await c.requestToken('SDK test app');
  assert.ok(pending.authUrl.startsWith(`${E.PANTHERA_URL}/auth/`));
  assert.equal(c.authorizationUrl(pending), pending.authUrl);
  assert.equal(c.authorizationUrl(pending.token), pending.authUrl);
  assert.equal(await c.withToken(pending).tokenIsValid(), false, 'pending until approved');
});

test('calls for an approved user', { skip: live.skip || skip('PANTHERA_USER_TOKEN', 'PANTHERA_TOKEN_SECRET') }, async () => {
  let u;
  for (const algo of ['sha1', 'sha256']) {
    for (const format of ['json', 'xml']) {
      u = client({ algo, format }).withToken(new p.UserToken(E.PANTHERA_USER_TOKEN, E.PANTHERA_TOKEN_SECRET));
      assert.equal(await u.tokenIsValid(), true);
      assert.equal((await u.call('get-user-profile')).user.username, 'demo');
    }
  }
  const until = Math.floor(Date.now() / 1000) + u.clockOffset + 7200;
  await u.setTokenValidUntil(until);
  assert.ok(Math.abs((await u.tokenValidUntil()) - until) <= 1);
  const listed = await u.call('get-downloaded-images');
  assert.ok(Array.isArray(p.asList((listed.media_list || {}).media)));
  await assert.rejects(client().withToken(E.PANTHERA_USER_TOKEN, 'not-the-secret').call('get-user-profile'),
    (e) => e instanceof p.AuthenticationError && e.status === 401);
});
