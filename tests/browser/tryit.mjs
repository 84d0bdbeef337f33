// Drives a docs page in Debian's headless Chromium: fills the try-it form,
// clicks Send, prints the answer shown; runs axe-core on the page and measures
// its width on a 390 px phone (no horizontal scroll).
// Usage: node tryit.mjs URL API_KEY API_SECRET [SCREENSHOT.png] [name=value ...]
// Fields: name=value fills the form field `name` (method parameters as p:name).
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [url, apiKey, apiSecret, screenshot, ...fields] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(url);
  // accessibility: axe-core's WCAG 2 A/AA rules
  await page.addScriptTag({ content: axeSource });
  const axe = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] })).violations.map(
      (v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })));
  await page.fill('#t-api_key', apiKey);
  await page.fill('#t-api_secret', apiSecret);
  for (const f of fields) {
    const i = f.indexOf('=');
    await page.fill(`[name="${f.slice(0, i)}"]`, f.slice(i + 1));
  }
  await page.click('button[type=submit]');
  await page.waitForSelector('#tryit-answer[data-status]', { timeout: 15000 });
  const answer = await page.textContent('#tryit-answer');
  const signed = await page.textContent('#tryit-signed');
  const request = await page.textContent('#tryit-request');
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
  // the page itself never scrolls sideways; long lines wrap
  const layout = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    preWhiteSpace: getComputedStyle(document.querySelector('pre')).whiteSpace,
    tryitTop: document.getElementById('try-it').getBoundingClientRect().top + window.scrollY,
    parametersTop: document.getElementById('parameters').getBoundingClientRect().top + window.scrollY,
  }));
  console.log(JSON.stringify({ answer, signed, request, axe, layout }));
} finally {
  await browser.close();
}
