import { existsSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Browser, chromium } from 'playwright-core';
import { baseUrl, createTestApp, TestApp } from './support/test-app';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`browser tests skipped: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)`);
}
const describeWithBrowser = hasChromium ? describe : describe.skip;

/** A page on its own origin that calls the API with fetch and reports what the browser allowed. */
function startPageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>client</title><p>client page</p>');
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

describeWithBrowser('in a real browser (Chromium)', () => {
  let browser: Browser;
  let t: TestApp;
  let allowed: { server: Server; origin: string };
  let other: { server: Server; origin: string };
  let accessToken: string;

  beforeAll(async () => {
    allowed = await startPageServer();
    other = await startPageServer();
    t = await createTestApp({ ALLOWED_ORIGINS: allowed.origin }, { listen: true });
    const registered = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: 'browser@example.com', password: 'browser-password-1' })
      .expect(201);
    accessToken = registered.body.accessToken;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    allowed?.server.close();
    other?.server.close();
  });

  async function fetchFrom(origin: string): Promise<string> {
    const page = await browser.newPage();
    try {
      await page.goto(origin);
      return await page.evaluate(
        async ({ api, token }) => {
          try {
            const res = await fetch(`${api}/v1/auth/me`, { headers: { Authorization: `Bearer ${token}` } });
            const body = (await res.json()) as { email?: string };
            return `status ${res.status} ${body.email ?? ''} request-id ${res.headers.get('X-Request-ID') ? 'visible' : 'hidden'}`;
          } catch (error) {
            return `blocked: ${(error as Error).name}`;
          }
        },
        { api: baseUrl(t), token: accessToken },
      );
    } finally {
      await page.close();
    }
  }

  it('lets a page from an allowed origin call the API, exposing X-Request-ID', async () => {
    expect(await fetchFrom(allowed.origin)).toBe('status 200 browser@example.com request-id visible');
  });

  it("blocks the same call from another origin by the browser's own CORS enforcement", async () => {
    expect(await fetchFrom(other.origin)).toBe('blocked: TypeError');
  });

  it('authorises Swagger UI with a token and runs "Try it out" on GET /v1/auth/me', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${baseUrl(t)}/docs`);
      await page.locator('button.authorize').first().click();
      await page.locator('.modal-ux input').first().fill(accessToken);
      await page.locator('.modal-ux button.authorize').click();
      await page.locator('.modal-ux button.btn-done, .modal-ux button.close-modal').first().click();

      const operation = page.locator('.opblock', { has: page.locator('[data-path="/v1/auth/me"]') });
      await operation.locator('.opblock-summary').first().click();
      await operation.locator('button.try-out__btn').click();
      await operation.locator('button.execute').click();
      const status = operation.locator('.live-responses-table tbody .response-col_status').first();
      await status.waitFor({ timeout: 15_000 });
      expect((await status.textContent())?.trim()).toBe('200');
    } finally {
      await page.close();
    }
  }, 60_000);
});
