'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const p = require('..');

test('signatures follow the protocol', () => {
  const ts = 'Thu, 26 Jul 2012 14:53:44 UTC';
  for (const algo of ['sha1', 'sha256', 'sha512']) {
    const want = crypto.createHmac(algo, 's').update(`${ts}kn`).digest('hex');
    assert.equal(p.sign('s', ts, 'k', 'n', algo), want);
  }
  assert.throws(() => p.sign('s', ts, 'k', 'n', 'md5'), RangeError);
});

test('timestamps and the server time of a refusal', () => {
  assert.equal(p.formatTimestamp(1343314424), 'Thu, 26 Jul 2012 14:53:44 GMT');
  assert.equal(p.serverTime('timestamp too old, server time is Thu, 26 Jul 2012 14:53:44 UTC'), 1343314424);
  assert.equal(p.serverTime('x', 'Thu, 26 Jul 2012 14:53:45 GMT'), 1343314425);
});

test('one child is an object, several a list', () => {
  const one = p.parseXml('<rsp stat="ok"><items total="1"><item id="1">a</item></items></rsp>');
  const two = p.parseXml('<rsp stat="ok"><items total="2"><item id="1"/><item id="2"/></items></rsp>');
  assert.deepEqual(one.items.item, { id: '1', _content: 'a' });
  assert.equal(p.asList(two.items.item).length, 2);
  assert.equal(p.asList(one.items.item)[0].id, '1');
  assert.deepEqual(p.asList(undefined), []);
  assert.deepEqual(p.parseXml('<?xml version="1.0"?><rsp stat="ok"><e/><t>x &lt; y</t></rsp>'), { stat: 'ok', e: '', t: 'x < y' });
});

test('error classes', () => {
  assert.equal(p.errorClass(404), p.NotFoundError);
  assert.equal(p.errorClass(403, 'invalid access key', true), p.AuthenticationError);
});
