/**
 * Debian's headless Chromium for the real-browser tests, driven by playwright-core (no browser download).
 * Locally a test skips with a printed reason when /usr/bin/chromium is absent; with CI=true it must be
 * there (.ci/run installs it).
 */
import fs from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);
export const inCi = process.env.CI === 'true';

/** Headless, no sandbox (containers), nothing phoning home: the machine has no outside network, and Chromium refuses to start sandboxed as root. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Prints why browser tests skip (once per file), and returns whether they can run. */
export function chromiumOrSkip(): boolean {
  if (!haveChromium && !inCi) console.warn(`skipping: ${CHROMIUM} not installed (apt-get install chromium)`);
  return haveChromium;
}

/** The error a CI run reports when Chromium is missing. */
export function missingChromiumError(): Error {
  return new Error(`${CHROMIUM} is missing (CI=true): .ci/run installs Debian's chromium package`);
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
