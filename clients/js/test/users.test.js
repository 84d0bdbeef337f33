'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const p = require('..');
const { E, skip, users } = require('../support/env');

const live = { skip: skip('PANTHERA_URL', 'PANTHERA_REST_TOKEN') };
const fresh = () => `js${crypto.randomBytes(5).toString('hex')}`;

test('create, read, update, list, delete', live, async () => {
  const api = users();
  const name = fresh();
  const u = await api.create({ username: name, email: `${name}@example.com`, first_name: 'Java', last_name: 'Script', status: 'pending' });
  assert.match(u.id, /^usr_/);
  assert.deepEqual([u.first_name, u.last_name, u.status], ['Java', 'Script', 'pending']);
  assert.match(u.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok('x-ratelimit-remaining' in api.rateLimit);
  assert.deepEqual(await api.get(u.id), u);
  const changed = await api.update(u.id, { status: 'inactive' });
  assert.deepEqual([changed.status, changed.username], ['inactive', name]);
  const page = await api.list({ status: 'inactive', limit: 100 });
  assert.ok(page.data.some((x) => x.id === u.id));
  assert.deepEqual([page.limit, page.offset], [100, 0]);
  assert.ok(page.data.every((x) => x.status === 'inactive'));
  const all = [];
  for await (const x of api.iterate({ pageSize: 1 })) all.push(x.id);
  assert.ok(all.includes(u.id));
  assert.equal(await api.delete(u.id), undefined);
  await assert.rejects(api.get(u.id), (e) => {
    assert.ok(e instanceof p.NotFoundError);
    assert.deepEqual([e.status, e.code], [404, 'NOT_FOUND']);
    assert.equal(e.serverMessage, `User with ID '${u.id}' not found.`);
    assert.ok(e.requestId);
    return true;
  });
});

test('conflicts, validation and idempotent retries', live, async () => {
  const api = users();
  const name = fresh();
  const idempotencyKey = crypto.randomUUID();
  const first = await api.create({ username: name, email: `${name}@example.com`, idempotencyKey });
  const again = await api.create({ username: name, email: `${name}@example.com`, idempotencyKey });
  assert.deepEqual(first, again);
  await assert.rejects(api.create({ username: `${name}x`, email: `${name.toUpperCase()}@EXAMPLE.com` }),
    (e) => e instanceof p.ConflictError && e.code === 'CONFLICT');
  await assert.rejects(api.update(first.id, { status: 'gone' }),
    (e) => e instanceof p.ValidationError && e.code === 'VALIDATION_ERROR');
  await api.delete(first.id);
});

test('keys are checked', live, async () => {
  await assert.rejects(users('pnt_wrong').list(),
    (e) => e instanceof p.AuthenticationError && e.status === 401 && e.code === 'UNAUTHORIZED');
});

test('an app key is forbidden', { skip: live.skip || skip('PANTHERA_APP_REST_TOKEN') }, async () => {
  await assert.rejects(users(E.PANTHERA_APP_REST_TOKEN).list(),
    (e) => e instanceof p.ForbiddenError && e.code === 'FORBIDDEN');
});

test('plain HTTP is refused when HTTPS is available', { skip: live.skip || skip('PANTHERA_PLAIN_URL') }, async () => {
  await assert.rejects(users(E.PANTHERA_REST_TOKEN, E.PANTHERA_PLAIN_URL).list(),
    (e) => e instanceof p.ForbiddenError && e.serverMessage.includes('https://'));
});
