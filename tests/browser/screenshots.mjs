// Screenshots of the docs in Debian's headless Chromium, and the checks that
// go with them: axe-core (WCAG 2 A/AA) on each page, no horizontal scroll at
// 390 px, and the search box finding a method.
// Usage: node screenshots.mjs BASE_URL OUT_DIR   (scripts/docs-screenshots
// refreshes docs/images/ with it; the test suite runs it into a temporary dir)
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [base, outDir] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const shots = [
  { file: 'docs-index.png', path: '/v1.0/', width: 1280, height: 900 },
  { file: 'docs-method.png', path: '/v1.0/get-user-profile', width: 1280, height: 900 },
  { file: 'docs-method-wide.png', path: '/v1.0/get-user-profile', width: 1600, height: 1000 },
  { file: 'docs-guide.png', path: '/guide/user-authorization', width: 1280, height: 900 },
  { file: 'docs-phone.png', path: '/v1.2/search', width: 390, height: 844 },
  // the answer's fields, as the registry declares them
  { file: 'docs-answer.png', path: '/v1.2/search', width: 1280, height: 900, anchor: '#answer' },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const result = { pages: [], search: null };
try {
  for (const s of shots) {
    const page = await browser.newPage({ viewport: { width: s.width, height: s.height } });
    await page.goto(base + s.path);
    await page.addScriptTag({ content: axeSource });
    const axe = await page.evaluate(async () =>
      // eslint-disable-next-line no-undef
      (await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] })).violations.map(
        (v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })));
    const layout = await page.evaluate(() => {
      const examples = document.querySelector('.examples');
      const reference = document.querySelector('.reference');
      return {
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
        // the code samples beside the reference (wide) or below it (narrow)
        samplesBeside: examples && reference
          ? examples.getBoundingClientRect().left > reference.getBoundingClientRect().left : null,
      };
    });
    if (s.anchor) {
      await page.$eval(s.anchor, (e) => e.scrollIntoView());
    }
    await page.screenshot({ path: join(outDir, s.file) });
    result.pages.push({ file: s.file, path: s.path, width: s.width, axe, layout });
    await page.close();
  }
  // the search box, as a reader uses it
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base + '/v1.0/');
  await page.fill('#search-q', 'user profile');
  await page.waitForSelector('#search-results li', { timeout: 10000 });
  result.search = await page.$$eval('#search-results a', (as) => as.map((a) => a.getAttribute('href')));
  await page.screenshot({ path: join(outDir, 'docs-search.png') });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
