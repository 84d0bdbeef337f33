'use strict';
// The server the tests run against, from the environment (tests/api/sdks.rs
// sets it; NODE_EXTRA_CA_CERTS trusts its certificate). Without PANTHERA_URL
// the live tests are skipped.
const { Client, Users } = require('..');

const E = process.env;
const missing = (...names) => names.filter((n) => !E[n]);
const skip = (...names) => (missing(...names).length ? `set ${missing(...names).join(', ')} to run against a server` : false);

const client = (o = {}) => new Client({ url: E.PANTHERA_URL, apiKey: E.PANTHERA_API_KEY, apiSecret: E.PANTHERA_API_SECRET, ...o });
const users = (apiKey = E.PANTHERA_REST_TOKEN, url = E.PANTHERA_URL) => new Users({ url, apiKey });

module.exports = { E, skip, client, users };
