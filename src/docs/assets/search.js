// The docs' search box: filters a small index of the methods and guides of
// this version (search-index.json, served by this server) as you type.
// Without JavaScript the box stays hidden and the sidebar lists everything.
(function () {
  'use strict';
  const box = document.getElementById('search');
  if (!box || !window.fetch) return;
  const input = document.getElementById('search-q');
  const list = document.getElementById('search-results');
  const status = document.getElementById('search-status');
  let index = null;
  box.hidden = false;
  async function load() {
    if (index) return index;
    const response = await fetch(box.dataset.index);
    index = (await response.json()).map((e) => ({
      ...e, text: (e.t + ' ' + e.s + ' ' + e.k).toLowerCase(),
    }));
    return index;
  }
  function item(e) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = e.u;
    a.textContent = e.t;
    const small = document.createElement('small');
    small.textContent = e.s;
    li.append(a, small);
    return li;
  }
  input.addEventListener('input', async () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    list.replaceChildren();
    if (!words.length) { status.textContent = ''; return; }
    let entries;
    try { entries = await load(); } catch (e) { status.textContent = 'The search index could not be loaded.'; return; }
    // a match in the name first, then in the summary and keywords
    const hits = entries.filter((e) => words.every((w) => e.text.includes(w)))
      .sort((a, b) => Number(!a.t.toLowerCase().includes(words[0])) - Number(!b.t.toLowerCase().includes(words[0])));
    hits.slice(0, 12).forEach((e) => list.append(item(e)));
    status.textContent = hits.length === 0 ? 'Nothing found.'
      : hits.length + (hits.length === 1 ? ' result' : ' results') + (hits.length > 12 ? ', the first 12:' : '');
  });
})();
