'use strict';
// Client for the Panthera web service, Node 18+ standard library only
// (node:crypto, fetch). See README.md.

const crypto = require('node:crypto');

const VERSION = '0.1.0';
const ALGOS = ['sha1', 'sha256', 'sha512'];
const FATAL = /^\d{3} [^(]*\(([\s\S]*)\)\s*$/;
const SKEW = /timestamp too (?:old|far in the future), server time is ([^)]+)/;

// ---- errors ---------------------------------------------------------------

/** An answer that is not a success: status, message, requestId, code, fatal, retryAfter. */
class PantheraError extends Error {
  constructor(status, message, { requestId = null, code = null, fatal = false, retryAfter = null, body = null } = {}) {
    super(`${status} ${message}${requestId ? ` (request ${requestId})` : ''}`);
    this.name = new.target.name;
    this.status = status;
    this.message_ = message;
    this.requestId = requestId;
    this.code = code;
    this.fatal = fatal;
    this.retryAfter = retryAfter;
    this.body = body;
  }
  /** The server's text (without status and request id). */
  get serverMessage() { return this.message_; }
}
class BadRequestError extends PantheraError {}
class AuthenticationError extends PantheraError {}
class ForbiddenError extends PantheraError {}
class NotFoundError extends PantheraError {}
class ConflictError extends PantheraError {}
class ValidationError extends PantheraError {}
class RateLimitError extends PantheraError {}
class ServerError extends PantheraError {}

const AUTH_WORDS = ['api key', 'access key', 'timestamp', 'nonce', 'signature', 'x-api-key'];

function errorClass(status, message = '', fatal = false) {
  if (status === 403 && (fatal || message.includes('X-API-Key'))) {
    const low = message.toLowerCase();
    if (AUTH_WORDS.some((w) => low.includes(w)) && !low.includes('https')) return AuthenticationError;
  }
  const byStatus = { 400: BadRequestError, 401: AuthenticationError, 403: ForbiddenError, 404: NotFoundError,
    409: ConflictError, 422: ValidationError, 429: RateLimitError };
  return byStatus[status] || (status >= 500 ? ServerError : PantheraError);
}

function retryAfterOf(headers) {
  const v = headers.get('retry-after');
  return v && /^\d+$/.test(v) ? Number(v) : null;
}

function rateLimitOf(headers) {
  const out = {};
  headers.forEach((v, k) => { if (k.toLowerCase().startsWith('x-ratelimit-')) out[k.toLowerCase()] = v; });
  return out;
}

// ---- answers --------------------------------------------------------------

/** A list whatever the server sent: undefined/null → [], one object → [it], a list as it is. */
function asList(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e];
  });
}

/** Parses the server's XML (elements, attributes, text, CDATA) into {name, attrs, text, children}. */
function parseXmlTree(xml) {
  let i = 0;
  const fail = (why) => { throw new Error(`XML: ${why} at ${i}`); };
  const skipMisc = () => {
    for (;;) {
      while (i < xml.length && /\s/.test(xml[i])) i++;
      if (xml.startsWith('<?', i)) { const e = xml.indexOf('?>', i); if (e < 0) fail('unterminated'); i = e + 2; }
      else if (xml.startsWith('<!--', i)) { const e = xml.indexOf('-->', i); if (e < 0) fail('unterminated'); i = e + 3; }
      else return;
    }
  };
  const name = () => {
    const m = /^[^\s/>=]+/.exec(xml.slice(i, i + 200));
    if (!m) fail('name expected');
    i += m[0].length;
    return m[0];
  };
  const element = () => {
    if (xml[i] !== '<') fail('< expected');
    i++;
    const node = { name: name(), attrs: {}, text: '', children: [] };
    for (;;) {
      while (/\s/.test(xml[i])) i++;
      if (xml.startsWith('/>', i)) { i += 2; return node; }
      if (xml[i] === '>') { i++; break; }
      const key = name();
      while (/\s/.test(xml[i])) i++;
      if (xml[i] !== '=') fail('= expected');
      i++;
      while (/\s/.test(xml[i])) i++;
      const q = xml[i];
      if (q !== '"' && q !== "'") fail('quote expected');
      const end = xml.indexOf(q, i + 1);
      if (end < 0) fail('unterminated attribute');
      node.attrs[key] = decodeEntities(xml.slice(i + 1, end));
      i = end + 1;
    }
    for (;;) {
      if (i >= xml.length) fail('unterminated element');
      if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA');
        node.text += xml.slice(i + 9, end);
        i = end + 3;
      } else if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i); if (end < 0) fail('unterminated'); i = end + 3;
      } else if (xml.startsWith('</', i)) {
        i += 2;
        if (name() !== node.name) fail('mismatched end tag');
        while (/\s/.test(xml[i])) i++;
        if (xml[i] !== '>') fail('> expected');
        i++;
        return node;
      } else if (xml[i] === '<') {
        node.children.push(element());
      } else {
        const end = xml.indexOf('<', i);
        if (end < 0) fail('unterminated element');
        node.text += decodeEntities(xml.slice(i, end));
        i = end;
      }
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i < xml.length) fail('trailing content');
  return root;
}

function toNative(node) {
  const hasAttrs = Object.keys(node.attrs).length > 0;
  if (!hasAttrs && node.children.length === 0) return node.text;
  const out = { ...node.attrs };
  const counts = {};
  for (const c of node.children) counts[c.name] = (counts[c.name] || 0) + 1;
  for (const c of node.children) {
    const v = toNative(c);
    if (counts[c.name] === 1) out[c.name] = v;
    else (out[c.name] = Array.isArray(out[c.name]) ? out[c.name] : []).push(v);
  }
  if (node.text.trim() !== '') out._content = node.text;
  return out;
}

/** `<rsp stat="ok">…</rsp>` as an object of its children (with `stat`), by protocol.md §7. */
function parseXml(xml) {
  const v = toNative(parseXmlTree(xml));
  return typeof v === 'object' ? v : { stat: '' };
}

/** A signed answer's body as an object, by its Content-Type. */
function parseAnswer(text, contentType) {
  if ((contentType || '').split(';')[0].trim() === 'application/json') return JSON.parse(text);
  return parseXml(text);
}

// ---- signing --------------------------------------------------------------

/** `Thu, 26 Jul 2012 14:53:44 GMT` for Unix seconds. */
function formatTimestamp(unix) {
  return new Date(unix * 1000).toUTCString();
}

/** lowercase_hex(HMAC_algo(secret, timestamp || key || nonce)). */
function sign(secret, timestamp, key, nonce, algo = 'sha1') {
  if (!ALGOS.includes(algo)) throw new RangeError('algo must be one of sha1, sha256, sha512');
  return crypto.createHmac(algo, secret).update(timestamp + key + nonce, 'utf8').digest('hex');
}

/** The server's clock (Unix seconds) from a refused timestamp's message, else the Date header. */
function serverTime(message, dateHeader) {
  const m = SKEW.exec(message || '');
  for (const text of [m && m[1], dateHeader]) {
    if (!text) continue;
    const ms = Date.parse(text.trim());
    if (!Number.isNaN(ms)) return ms / 1000;
  }
  return null;
}

class UserToken {
  constructor(token, secret, authUrl = null, validUntil = null) {
    this.token = token;
    this.secret = secret;
    this.authUrl = authUrl;
    this.validUntil = validUntil;
  }
}

// ---- the signed client ----------------------------------------------------

class Client {
  /**
   * @param {object} o url, apiKey, apiSecret, algo ('sha1'), format ('json'|'xml'),
   *   token (UserToken), version ('1.0'), userAgent, correctClock (true)
   */
  constructor({ url, apiKey, apiSecret, algo = 'sha1', format = 'json', token = null, version = '1.0',
    userAgent = null, correctClock = true }) {
    if (!ALGOS.includes(algo)) throw new RangeError('algo must be one of sha1, sha256, sha512');
    if (format !== 'json' && format !== 'xml') throw new RangeError('format must be json or xml');
    Object.assign(this, { url: url.replace(/\/+$/, ''), apiKey, apiSecret, algo, format, token, version,
      userAgent: userAgent || `panthera-client-js/${VERSION}`, correctClock });
    /** Seconds to add to the local clock (learnt from the server). */
    this.clockOffset = 0;
    /** How many calls were signed again after a refused timestamp. */
    this.clockCorrections = 0;
    /** The X-RateLimit-* headers of the last answer. */
    this.rateLimit = {};
  }

  /** A client acting for the user of `token` (a UserToken, or token + secret); shares the clock offset. */
  withToken(token, secret = null) {
    const t = token instanceof UserToken ? token : new UserToken(token, secret);
    const c = new Client({ ...this, token: t });
    c.clockOffset = this.clockOffset;
    return c;
  }

  /** The credential parameters of one call. */
  signedParams(now = Date.now() / 1000) {
    const ts = formatTimestamp(Math.floor(now + this.clockOffset));
    const nonce = crypto.randomBytes(12).toString('hex');
    const p = { api_key: this.apiKey, timestamp: ts, nonce, access_key: sign(this.apiSecret, ts, this.apiKey, nonce, this.algo) };
    if (this.algo !== 'sha1') p.algo = this.algo;
    if (this.token) {
      p.auth_token = this.token.token;
      p.access_token = sign(this.token.secret, ts, this.token.token, nonce, this.algo);
    }
    return p;
  }

  /** Calls `method`; resolves to its payload (without `stat`). */
  async call(method, params = {}) {
    const res = await this._post(method, params, null);
    const v = parseAnswer(await res.text(), res.headers.get('content-type'));
    delete v.stat;
    return v;
  }

  /** Calls a method that returns a file; resolves to its bytes (a Buffer). */
  async download(method, params = {}) {
    const res = await this._post(method, params, 'application/octet-stream, application/json');
    return Buffer.from(await res.arrayBuffer());
  }

  /** GETs a file the server links to (download_url, renditions). */
  async fetchFile(url) {
    const res = await fetch(url.startsWith('/') ? this.url + url : url,
      { headers: { 'user-agent': this.userAgent }, redirect: 'manual' });
    if (res.status !== 200) throw await this._error(res);
    return Buffer.from(await res.arrayBuffer());
  }

  async _post(method, params, contentType) {
    const fields = {};
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null) fields[k] = v;
    const ct = contentType || (this.format === 'json' ? 'application/json' : null);
    if (ct) fields.content_type = ct;
    const url = `${this.url}/v${this.version}/${method}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...fields, ...this.signedParams() })) {
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, String(one));
      }
      const res = await fetch(url, { method: 'POST', body, redirect: 'manual',
        headers: { 'user-agent': this.userAgent, 'content-type': 'application/x-www-form-urlencoded' } });
      this.rateLimit = rateLimitOf(res.headers);
      if (res.status >= 200 && res.status < 300) return res;
      const err = await this._error(res);
      if (attempt === 0 && this._learnClock(err, res)) continue;
      throw err;
    }
    throw new Error('unreachable');
  }

  _learnClock(err, res) {
    if (!(this.correctClock && err.fatal && err.status === 403 && SKEW.test(err.serverMessage))) return false;
    const server = serverTime(err.serverMessage, res.headers.get('date'));
    if (server === null) return false;
    this.clockOffset = Math.round(server - Date.now() / 1000);
    this.clockCorrections++;
    return true;
  }

  async _error(res) {
    const requestId = res.headers.get('x-request-id');
    const retryAfter = retryAfterOf(res.headers);
    const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
    const text = await res.text();
    if (ctype === 'application/json' || ctype === 'text/xml') {
      try {
        const v = parseAnswer(text, ctype);
        const e = v.err || {};
        const msg = e.msg !== undefined ? e.msg : text;
        const Cls = errorClass(res.status, msg);
        return new Cls(res.status, msg, { requestId, code: e.code !== undefined ? e.code : res.status, retryAfter, body: v });
      } catch (_) { /* not an answer: fall through */ }
    }
    const m = FATAL.exec(text);
    const msg = m ? m[1] : text.trim();
    const Cls = errorClass(res.status, msg, true);
    return new Cls(res.status, msg, { requestId, fatal: true, retryAfter });
  }

  // ---- user tokens ----

  /** request-token (HTTPS only): a pending token the user approves at its authUrl. */
  async requestToken(appName, { tokenSecret = null, appCallback = null, ...extra } = {}) {
    const secret = tokenSecret || crypto.randomBytes(18).toString('base64url');
    const v = await this.call('request-token', { ...extra, token_secret: secret, app_name: appName, app_callback: appCallback });
    return new UserToken(v.token, secret, v.auth_url, v.valid_until);
  }

  /** The page where the user approves `token`. */
  authorizationUrl(token) {
    if (token instanceof UserToken) {
      if (token.authUrl) return token.authUrl;
      token = token.token;
    }
    return `${this.url}/auth/${encodeURIComponent(token)}`;
  }

  /** When this client's token expires (get-user-profile), Unix seconds. */
  async tokenValidUntil() {
    const v = await this.call('get-user-profile');
    const until = v.user && v.user.token_valid_until;
    return until ? Date.parse(until) / 1000 : null;
  }

  /** token-valid-until: the token expires at `when` (Unix seconds or a protocol timestamp). */
  async setTokenValidUntil(when) {
    return this.call('token-valid-until', { valid_until: typeof when === 'string' ? when : formatTimestamp(Math.floor(when)) });
  }

  /** Whether this client's token is accepted now. */
  async tokenIsValid() {
    try {
      await this.call('get-user-profile');
      return true;
    } catch (e) {
      if (e instanceof PantheraError && e.status === 401) return false;
      throw e;
    }
  }
}

// ---- the REST users API ---------------------------------------------------

class Users {
  /** @param {object} o url, apiKey (the X-API-Key token), userAgent */
  constructor({ url, apiKey, userAgent = null }) {
    this.url = url.replace(/\/+$/, '');
    this.apiKey = apiKey;
    this.userAgent = userAgent || `panthera-client-js/${VERSION}`;
    this.rateLimit = {};
  }

  /** One page: {data, total, limit, offset}. */
  list({ limit, offset, status } = {}) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ limit, offset, status })) if (v !== undefined && v !== null) q.append(k, String(v));
    const qs = q.toString();
    return this._request('GET', `/v1/users${qs ? `?${qs}` : ''}`);
  }

  /** Every user, page after page. */
  async *iterate({ status, pageSize = 100 } = {}) {
    let offset = 0;
    for (;;) {
      const page = await this.list({ limit: pageSize, offset, status });
      yield* page.data;
      offset += page.data.length;
      if (page.data.length === 0 || offset >= page.total) return;
    }
  }

  get(id) { return this._request('GET', Users._item(id)); }

  /** POST /v1/users; fields: status, first_name, last_name, company, password. */
  create({ idempotencyKey, ...fields }) {
    return this._request('POST', '/v1/users', fields, idempotencyKey ? { 'idempotency-key': idempotencyKey } : {});
  }

  /** PUT: only the fields given change. */
  update(id, fields) { return this._request('PUT', Users._item(id), fields); }

  async delete(id) { await this._request('DELETE', Users._item(id)); }

  static _item(id) { return `/v1/users/${encodeURIComponent(id)}`; }

  async _request(method, path, body = undefined, extra = {}) {
    const headers = { accept: 'application/json', 'x-api-key': this.apiKey, 'user-agent': this.userAgent, ...extra };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.url + path, { method, headers, redirect: 'manual',
      body: body === undefined ? undefined : JSON.stringify(body) });
    this.rateLimit = rateLimitOf(res.headers);
    if (res.status === 204) return undefined;
    const text = await res.text();
    if (res.status >= 200 && res.status < 300) return JSON.parse(text);
    let code = null;
    let msg = text.trim();
    try {
      const v = JSON.parse(text);
      code = v.code;
      msg = v.message;
    } catch (_) { /* not JSON */ }
    const Cls = errorClass(res.status, msg);
    throw new Cls(res.status, msg, { requestId: res.headers.get('x-request-id'), code, retryAfter: retryAfterOf(res.headers) });
  }
}

module.exports = {
  VERSION, Client, Users, UserToken, asList, parseXml, parseAnswer, sign, formatTimestamp, serverTime,
  PantheraError, BadRequestError, AuthenticationError, ForbiddenError, NotFoundError, ConflictError,
  ValidationError, RateLimitError, ServerError, errorClass,
};
