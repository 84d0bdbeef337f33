// "Try it": signs a call in the browser with WebCrypto and shows the raw
// request, the signed string and the raw answer. Secrets never leave the page.
(function () {
  'use strict';
  const form = document.getElementById('tryit');
  if (!form) return;
  const out = (id) => document.getElementById(id);
  const hashes = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };
  const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
  async function hmac(hash, secret, message) {
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash }, false, ['sign']);
    return hex(await crypto.subtle.sign('HMAC', key, enc.encode(message)));
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answer = out('tryit-answer');
    answer.removeAttribute('data-status');
    if (!window.crypto || !crypto.subtle) {
      answer.textContent = 'Signing needs WebCrypto: open the docs over HTTPS or on localhost.';
      return;
    }
    const f = new FormData(form);
    const algo = String(f.get('algo') || 'sha1');
    const hash = hashes[algo];
    const timestamp = new Date().toUTCString().replace('GMT', 'UTC');
    const nonce = hex(crypto.getRandomValues(new Uint8Array(8)));
    const apiKey = String(f.get('api_key') || '').trim();
    const signed = [timestamp + apiKey + nonce];
    const params = new URLSearchParams();
    params.set('api_key', apiKey);
    params.set('access_key', await hmac(hash, String(f.get('api_secret') || ''), signed[0]));
    params.set('timestamp', timestamp);
    params.set('nonce', nonce);
    params.set('algo', algo);
    const token = String(f.get('auth_token') || '').trim();
    if (token) {
      signed.push(timestamp + token + nonce);
      params.set('auth_token', token);
      params.set('access_token', await hmac(hash, String(f.get('token_secret') || ''), signed[1]));
    }
    for (const [name, value] of f.entries()) {
      if (name.startsWith('p:') && value !== '') params.append(name.slice(2), String(value));
    }
    const contentType = String(f.get('content_type') || '');
    if (contentType) params.set('content_type', contentType);
    const endpoint = form.dataset.endpoint;
    const body = params.toString();
    // what the browser sends: it sets User-Agent itself (a page may not)
    out('tryit-request').textContent =
      'POST ' + endpoint + ' HTTP/1.1\nHost: ' + location.host +
      '\nUser-Agent: ' + navigator.userAgent +
      '\nContent-Type: application/x-www-form-urlencoded' +
      '\nContent-Length: ' + new TextEncoder().encode(body).length +
      '\nOrigin: ' + location.origin + '\n\n' + body;
    const labels = ['access_key = HMAC_' + algo + '(api_secret, timestamp + api_key + nonce) over:',
      'access_token = HMAC_' + algo + '(token_secret, timestamp + auth_token + nonce) over:'];
    out('tryit-signed').textContent = signed.map((s, i) => labels[i] + '\n' + s).join('\n\n');
    answer.textContent = 'Sending…';
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body,
      });
      const text = await response.text();
      let headers = '';
      response.headers.forEach((value, name) => { headers += name + ': ' + value + '\n'; });
      answer.textContent = 'HTTP ' + response.status + ' ' + response.statusText + '\n' + headers + '\n' + text;
      answer.dataset.status = String(response.status);
    } catch (e) {
      answer.textContent = 'The request failed: ' + e;
    }
  });
})();
