// What the OAuth tests in a real browser share: a loopback "application" that receives the
// authorization responses (as a desktop client's callback does), and a headless Chromium with a
// fresh profile of its own.
import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext } from 'playwright-core';
import { tempDir } from './gatehouse.ts';
import { CHROMIUM } from './requirements.ts';
import { CHROMIUM_ARGS } from './dashboard-browser.ts';

export interface LoopbackCallback {
  /** http://127.0.0.1:<port>/callback */
  readonly url: string;
  /** Each authorization response the browser brought, in order. */
  readonly answers: URL[];
  close(): Promise<void>;
}

/** A client's loopback callback: records each authorization response and tells the person they are done. */
export async function startLoopbackCallback(): Promise<LoopbackCallback> {
  const answers: URL[] = [];
  let url = '';
  const server = createServer((req, res) => {
    const answer = new URL(req.url ?? '/', url);
    // Browsers also ask for /favicon.ico: only the callback path is an answer.
    if (answer.pathname !== '/callback') return void res.writeHead(404).end();
    answers.push(answer);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Done</title><p>Authorized. You can close this window.</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return {
    url,
    answers,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Headless Chromium with a fresh profile; `close` removes the profile too. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = tempDir('gatehouse-chromium-');
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
