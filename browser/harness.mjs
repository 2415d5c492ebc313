// What the browser scripts share: Debian's headless Chromium through playwright-core (no
// browser is downloaded), steps that print one line each ("SKIPPED: …" for a page that
// does not exist yet) and a summary, screenshots of every page, and the checks every
// page is held to: it fits the screen, and it causes no errors (a refused resource, a
// broken stylesheet or picture).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export class Skip extends Error {}

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

/// Opens Chromium at `viewportName` (desktop = 1280×800, phone = 390×844); screenshots
/// go to `{screenshots}/{viewportName}/`, this run's only.
export async function start(viewportName, screenshots) {
  const viewport = VIEWPORTS[viewportName];
  if (!viewport) throw new Error(`the viewport must be desktop or phone, not ${viewportName}`);
  const shots = join(screenshots, viewportName);
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    // As root in a container, without the network's background noise.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const results = [];
  const pageErrors = [];
  let shot = 0;
  let current = null;

  /// A fresh browser context (its own cookies): one per person.
  async function newPage() {
    const context = await browser.newContext({ viewport, isMobile: viewportName === 'phone', hasTouch: viewportName === 'phone' });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    // A 4xx page is not an error of the page (a form error answers 422; Chromium logs
    // it all the same), nor the favicon browsers ask for on their own.
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && pageErrors.push(m.text()));
    page.on('response', (r) => {
      const request = r.request();
      if (r.status() >= 400 && request.resourceType() !== 'document' && !request.url().endsWith('/favicon.ico')) {
        pageErrors.push(`${r.status()} for ${request.resourceType()} ${request.url()}`);
      }
    });
    current = page;
    return page;
  }

  async function screenshot(name, page = current) {
    shot += 1;
    const file = join(shots, `${String(shot).padStart(2, '0')}-${name.replace(/[^a-z0-9-]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file, fullPage: true });
  }

  async function step(name, body) {
    try {
      await body();
      results.push(['ok', name]);
      console.log(`ok: ${name}`);
    } catch (e) {
      if (e instanceof Skip) {
        results.push(['skipped', name]);
        console.log(`SKIPPED: ${name}: ${e.message}`);
      } else {
        results.push(['failed', name]);
        console.log(`FAILED: ${name}: ${e.stack ?? e}`);
        await screenshot(`FAILED-${name}`).catch(() => {});
      }
    }
  }

  /// Nothing wider than the screen: a phone scrolls down, never sideways.
  async function fitsTheScreen(what, page = current) {
    const { scroll, width } = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      width: window.innerWidth,
    }));
    check(scroll <= width, `${what} is ${scroll}px wide on a ${width}px screen`);
  }

  /// Closes the browser, prints the summary and exits (non-zero when a step failed).
  async function finish() {
    await browser.close();
    if (pageErrors.length) {
      console.log(`FAILED: the pages caused errors:\n${pageErrors.join('\n')}`);
      results.push(['failed', 'page errors']);
    }
    const count = (what) => results.filter(([r]) => r === what).length;
    console.log(`${viewportName}: ${count('ok')} passed, ${count('skipped')} skipped, ${count('failed')} failed; screenshots in ${shots}`);
    process.exit(count('failed') ? 1 : 0);
  }

  return { newPage, screenshot, step, fitsTheScreen, finish };
}
