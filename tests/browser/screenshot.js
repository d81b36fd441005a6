// Opens a report.html in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), records console errors, page errors and every network request other than
// the file itself, and saves full-page screenshots at the given widths.
//
//   node screenshot.js REPORT.html OUT_DIR [WIDTH[:NAME]]...
//
// Prints one JSON object on stdout: {consoleErrors, pageErrors, requests, screenshots, title}.
// Exits 2 when Chromium or playwright-core is missing, 1 on any other failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function fail(code, message) {
  process.stderr.write(message + '\n');
  process.exit(code);
}

let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  fail(2, `playwright-core is not installed: run \`npm install\` in ${__dirname} (${e.message})`);
}
if (!fs.existsSync(CHROMIUM)) {
  fail(2, `${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium)`);
}

const [report, outDir, ...sizes] = process.argv.slice(2);
if (!report || !outDir) {
  fail(1, 'usage: node screenshot.js REPORT.html OUT_DIR [WIDTH[:NAME]]...');
}
const reportUrl = pathToFileURL(path.resolve(report)).href;
const widths = (sizes.length ? sizes : ['1280:screenshot']).map((s) => {
  const [w, name] = s.split(':');
  return { width: Number(w), name: name || `screenshot-${w}` };
});

(async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  const result = { consoleErrors: [], pageErrors: [], requests: [], screenshots: [], title: '' };
  try {
    for (const { width, name } of widths) {
      const context = await browser.newContext({
        viewport: { width, height: 900 },
        deviceScaleFactor: width < 500 ? 2 : 1,
        javaScriptEnabled: true,
      });
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error') result.consoleErrors.push(msg.text());
      });
      page.on('pageerror', (err) => result.pageErrors.push(String(err)));
      page.on('request', (req) => {
        if (req.url() !== reportUrl) result.requests.push(req.url());
      });
      await page.goto(reportUrl, { waitUntil: 'load' });
      await page.waitForTimeout(300);
      result.title = await page.title();
      const file = path.join(outDir, `${name}.png`);
      fs.mkdirSync(outDir, { recursive: true });
      await page.screenshot({ path: file, fullPage: true });
      result.screenshots.push(file);
      if (width >= 1000) {
        // The print stylesheet must produce A4 pages without errors.
        await page.emulateMedia({ media: 'print' });
        const pdf = path.join(outDir, `${name}.pdf`);
        await page.pdf({ path: pdf, format: 'A4', printBackground: true });
        result.screenshots.push(pdf);
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
})().catch((e) => fail(1, `browser check failed: ${e && e.stack ? e.stack : e}`));
