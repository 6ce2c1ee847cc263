import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import request from 'supertest';
import { routeTableOf } from '../../api/route';
import { answerClientErrors, MAX_JSON_DEPTH } from '../../api/shared/hardening';
import type { UserRole } from '../../db/schema';
import { createTestApp, createUsers, testConfig } from '../support/app';
import { browserTests, launchChromium, serveForBrowser } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer, eventually } from '../support/probes';

/** Security headers, 405/431/413, the body depth limit, /dev/mail, and the shared rate limit of the links. */
describe('hardening', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let tokens: Record<UserRole, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Every route is registered (the process routes need a Temporal client); none of these requests reach it.
    app = createTestApp(database.db, { temporal: {} as never, mailer: {} as never });
    tokens = await createUsers(database.db, ['admin', 'service_desk']);
  });
  afterAll(() => database.drop());

  function expectErrorModel(response: { status: number; headers: Record<string, string>; body: unknown }, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.body as { error: Record<string, unknown> };
    expect(Object.keys(body).sort()).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
    expect(body.error).toMatchObject({ code, message: expect.any(String) });
  }

  describe('security headers', () => {
    test('a JSON answer (and an error) carries helmet\'s headers and a policy that allows nothing', async () => {
      for (const response of [await request(app).get('/healthz'), await request(app).get('/no/such/route')]) {
        expect(response.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none';base-uri 'none';form-action 'none'");
        expect(response.headers).toMatchObject({
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'cross-origin-opener-policy': 'same-origin',
          'cross-origin-resource-policy': 'same-origin',
          'strict-transport-security': expect.stringMatching(/^max-age=\d+; includeSubDomains$/),
        });
        expect(response.headers['x-powered-by']).toBeUndefined();
      }
    });

    test('/docs allows its own scripts and its inline styles by hash, never unsafe-inline', async () => {
      const response = await request(app).get('/docs/');
      expect(response.status).toBe(200);
      const policy = response.headers['content-security-policy'] ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(policy).not.toContain('unsafe-inline');
      expect(policy).not.toContain('unsafe-eval');
    });

    const browser = browserTests();
    (browser.run ? test : test.skip)(`Swagger UI renders in Chromium under its policy exactly as without one, with no violation${browser.run ? '' : ` (${browser.reason})`}`, async () => {
      const served = await serveForBrowser(app);
      const chromium = await launchChromium();
      try {
        /** Opens /docs and returns how many operations and schemas it rendered, and the policy violations reported. */
        const render = async (bypassCSP: boolean) => {
          const page = await chromium.newPage({ bypassCSP });
          const violations: string[] = [];
          page.on('console', (message) => {
            if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
          });
          page.on('pageerror', (error) => violations.push(error.message));
          await page.goto(`${served.baseUrl}/docs/`);
          await page.waitForSelector('.opblock-tag', { timeout: 20_000 });
          // Rendered once the text stops changing (Swagger UI renders in steps).
          let text = '';
          await eventually(
            async () => {
              const previous = text;
              text = await page.locator('body').innerText();
              return text.length > 0 && text === previous;
            },
            (stable) => stable,
            20_000,
          );
          // Every tag is listed (collapsed); one of the last opens on a click with its operations.
          const tags = await page.locator('.opblock-tag').count();
          await page.locator('.opblock-tag', { hasText: 'DOA claims' }).click();
          await page.waitForSelector('.opblock', { timeout: 20_000 });
          const rendered = { tags, operations: await page.locator('.opblock').count(), text, bodyMargin: await page.evaluate<string>('getComputedStyle(document.body).margin') };
          await page.close();
          return { rendered, violations };
        };
        const unrestricted = await render(true);
        const restricted = await render(false);
        expect(restricted.violations).toEqual([]);
        expect(restricted.rendered).toEqual(unrestricted.rendered);
        const documented = (await request(app).get('/openapi.json')).body as { paths: Record<string, Record<string, { tags: string[] }>> };
        const tagNames = new Set(Object.values(documented.paths).flatMap((operations) => Object.values(operations).map((operation) => operation.tags[0])));
        expect(restricted.rendered.tags).toBe(tagNames.size);
        const doaOperations = Object.values(documented.paths).flatMap((operations) => Object.values(operations)).filter((operation) => operation.tags[0] === 'DOA claims').length;
        expect(restricted.rendered.operations).toBe(doaOperations);
        // The page's own inline <style> (body margin 0) applied: it was allowed by its hash.
        expect(restricted.rendered.bodyMargin).toBe('0px');
      } finally {
        await chromium.close();
        await served.close();
      }
    });
  });

  describe('405 with a correct Allow', () => {
    /** A path of the route's pattern, its parameters filled in. */
    const concrete = (pattern: string) => pattern.replace(/:[A-Za-z0-9_]+/g, 'x1');

    test('TRACE on every declared path is a 405 (with or without a token) whose Allow lists only methods routed there', async () => {
      const table = routeTableOf(app);
      const paths = [...new Set(table.map((route) => route.path))];
      for (const pattern of paths) {
        const url = concrete(pattern);
        for (const headers of [{}, bearer(tokens.admin)]) {
          const response = await request(app).trace(url).set(headers);
          expectErrorModel(response, 405, 'method_not_allowed');
          const allow = (response.headers.allow ?? '').split(', ');
          // Every method of this path is listed...
          for (const route of table.filter((entry) => entry.path === pattern)) expect(allow).toContain(route.method.toUpperCase());
          expect(allow).toEqual(expect.arrayContaining(['OPTIONS']));
          // ...and every listed method is routed at this path (none of another path).
          for (const method of allow.filter((name) => name !== 'OPTIONS' && name !== 'HEAD')) {
            const routed = await request(app)[method.toLowerCase() as 'get'](url).set(bearer(tokens.admin));
            expect([routed.status, routed.body?.error?.code]).not.toEqual([405, 'method_not_allowed']);
            expect(routed.body?.error?.code).not.toBe('route_not_found');
          }
        }
      }
      expect(paths.length).toBeGreaterThan(100);
    });

    test('a known path with another method: DELETE /customers is a 405 naming GET, HEAD, OPTIONS, POST; OPTIONS a 204 with the same', async () => {
      const response = await request(app).delete('/customers').set(bearer(tokens.admin));
      expectErrorModel(response, 405, 'method_not_allowed');
      expect(response.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
      const options = await request(app).options('/customers');
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
      expect((await request(app).post('/openapi.json')).headers.allow).toBe('GET, HEAD, OPTIONS');
    });

    test('an unknown path is still a 404', async () => {
      expectErrorModel(await request(app).trace('/no/such/route'), 404, 'route_not_found');
    });
  });

  describe('bodies', () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

    test(`a JSON body nested deeper than ${MAX_JSON_DEPTH} levels is a 400 naming the body; one at the limit goes on to validation`, async () => {
      const deep = await request(app).post('/customers').set(bearer(tokens.service_desk)).set('Content-Type', 'application/json').send(`{"code":${nested(5_000)}}`);
      expectErrorModel(deep, 400, 'validation_failed');
      expect(deep.body.error.details).toEqual([expect.objectContaining({ in: 'body', field: '(root)', message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`) })]);
      // Brackets inside strings are text, not nesting.
      const inString = await request(app).post('/customers').set(bearer(tokens.service_desk)).set('Content-Type', 'application/json').send(JSON.stringify({ code: nested(100), name: '\\"[' }));
      expect(inString.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'body', field: 'customerClass' })]));
      const atLimit = await request(app).post('/customers').set(bearer(tokens.service_desk)).set('Content-Type', 'application/json').send(`{"code":${nested(MAX_JSON_DEPTH - 1)}}`);
      expect(atLimit.body.error.details).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'body', field: 'code' })]));
    });

    test('a body past 1 MB is a 413 in the error model', async () => {
      const response = await request(app).post('/customers').set(bearer(tokens.service_desk)).send({ code: 'BIG', name: 'x'.repeat(1_100_000) });
      expectErrorModel(response, 413, 'payload_too_large');
    });

    test('headers past the server limit are a 431 in the error model; bad HTTP a 400', async () => {
      const server = http.createServer(app);
      answerClientErrors(server);
      server.listen(0, '127.0.0.1');
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const { port } = server.address() as AddressInfo;
      try {
        const big = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
        expect(big.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
        expect(big.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(JSON.parse(big.body)).toEqual({ error: { code: 'headers_too_large', message: expect.any(String), details: null } });
        const bad = await rawRequest(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
        expect(bad.statusLine).toBe('HTTP/1.1 400 Bad Request');
        expect(JSON.parse(bad.body).error.code).toBe('malformed_request');
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('/dev/mail', () => {
    const mailDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldops-dev-mail-'));
    afterAll(() => fs.rmSync(mailDirectory, { recursive: true, force: true }));

    test('absent in production', async () => {
      const production = createTestApp(database.db, { config: { ...testConfig, env: 'production' }, mailCaptureDirectory: mailDirectory });
      expectErrorModel(await request(production).get('/dev/mail'), 404, 'route_not_found');
    });

    test('in development it answers loopback clients only (a client behind a loopback proxy is not one)', async () => {
      const development = createTestApp(database.db, { config: { ...testConfig, env: 'development' }, mailCaptureDirectory: mailDirectory });
      const local = await request(development).get('/dev/mail');
      expect(local.status).toBe(200);
      expect(local.body).toEqual({ items: [] });
      expectErrorModel(await request(development).get('/dev/mail').set('X-Forwarded-For', '203.0.113.5'), 403, 'loopback_only');
      expectErrorModel(await request(development).get('/dev/mail/some-id').set('X-Forwarded-For', '203.0.113.5'), 403, 'loopback_only');
      // From this machine's own non-loopback address, when it has one: not loopback either.
      const external = Object.values(os.networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal);
      if (external) {
        const server = http.createServer(development).listen(0, external.address);
        await new Promise<void>((resolve) => server.once('listening', () => resolve()));
        try {
          const response = await fetch(`http://${external.address}:${(server.address() as AddressInfo).port}/dev/mail`);
          expect(response.status).toBe(403);
        } finally {
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }
    });
  });

  describe('rate limits on the links, shared through PostgreSQL', () => {
    test('two API processes count together, by link and by client address: 429 with Retry-After in the error model', async () => {
      const config = { ...testConfig, rateLimits: { links: { perIpPerMinute: 6, perTokenPerMinute: 3 } } };
      const [first, second] = [createTestApp(database.db, { config }), createTestApp(database.db, { config })];
      const client = (n: number) => ({ 'X-Forwarded-For': `198.51.100.${n}` });
      // One link from several addresses: the 4th request (whichever process) is refused by token.
      const answers = [];
      for (let index = 0; index < 4; index += 1) answers.push(await request(index % 2 === 0 ? first : second).get('/links/one-link').set(client(index + 10)));
      expect(answers.slice(0, 3).map((response) => response.status)).not.toContain(429);
      const refused = answers[3]!;
      expectErrorModel(refused, 429, 'rate_limited');
      expect(refused.body.error.details).toEqual({ scope: 'token', limit: 3, windowSeconds: 60, retryAfterSeconds: Number(refused.headers['retry-after']) });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
      // One address over several links (HTML pages included): the 7th is refused by address.
      const statuses = [];
      for (let index = 0; index < 7; index += 1) {
        statuses.push((await request(index % 2 === 0 ? second : first).get(`/links/link-${index}`).set(client(1)).set('Accept', 'text/html')).status);
      }
      expect(statuses.slice(0, 6)).not.toContain(429);
      const byAddress = await request(first).get('/links/link-7').set(client(1));
      expectErrorModel(byAddress, 429, 'rate_limited');
      expect(byAddress.body.error.details.scope).toBe('ip');
      // Another address is not held back; tokens and addresses are stored only as hashes.
      expect((await request(second).get('/links/link-8').set(client(2))).status).not.toBe(429);
      const stored = await sql<{ key_hash: string }>`select key_hash from rate_limit_counters`.execute(database.db);
      expect(stored.rows.length).toBeGreaterThanOrEqual(3);
      for (const row of stored.rows) expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
      // Routes off /links are not limited.
      for (let index = 0; index < 8; index += 1) expect((await request(first).get('/healthz').set(client(1))).status).toBe(200);
    });
  });
});

/** Sends raw bytes and reads the whole answer (the server closes the connection). */
function rawRequest(port: number, text: string): Promise<{ statusLine: string; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      resolve({ statusLine, headers, body });
    });
    socket.connect(port, '127.0.0.1', () => socket.write(text));
  });
}
