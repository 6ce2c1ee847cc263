import pino from 'pino';
import request from 'supertest';
import { z } from 'zod';
import { defineLinkAction } from '../../api/routes/links';
import { redactCredentials } from '../../api/shared/request-log';
import { ConfigError, loadConfig } from '../../activities/shared/config';
import { createTestApp, createUsers, testSignedLinks } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { bearer } from '../support/probes';

interface LogEntry {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const INFO = 30;
const ERROR = 50;

describe('request log lines', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let deskToken: string;
  const lines: string[] = [];
  const links = testSignedLinks();
  const entries = () => lines.map((line) => JSON.parse(line) as LogEntry);
  const lastRequestLine = () => entries().filter((entry) => typeof entry.route === 'string').at(-1);

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, {
      links,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      linkActions: [
        defineLinkAction({
          action: 'test.broken',
          summary: 'Always fails on the server side',
          body: z.object({}),
          perform: async () => {
            throw new Error('the disk is on fire');
          },
        }),
      ],
    });
    deskToken = (await createUsers(database.db, ['service_desk'])).service_desk;
  });
  afterAll(() => database.drop());

  test('a 2xx and a 4xx are one info line each: method, route pattern, status, ms, request id, user id', async () => {
    await request(app).get('/customers/00000000-0000-4000-8000-000000000000').set(bearer(deskToken)).set('X-Request-Id', 'req-404');
    expect(lastRequestLine()).toMatchObject({
      level: INFO,
      reqId: 'req-404',
      method: 'GET',
      route: '/customers/:id',
      status: 404,
      ms: expect.any(Number),
      userId: expect.any(String),
      msg: expect.stringMatching(/^GET \/customers\/:id 404 \d+ms$/),
    });
    await request(app).get('/customers');
    expect(lastRequestLine()).toMatchObject({ level: INFO, route: '/customers', status: 401 });
    expect(lastRequestLine()).not.toHaveProperty('userId');
  });

  test('a 5xx is one line at error with the error and its stack, and the link token redacted', async () => {
    const link = links.issue({ caseId: 'case-1', action: 'test.broken', singleUse: false });
    const response = await request(app).post(`/links/${link.token}`).send({});
    expect(response.status).toBe(500);
    const line = lastRequestLine();
    expect(line).toMatchObject({ level: ERROR, method: 'POST', route: '/links/:token', status: 500 });
    expect(line?.err).toMatchObject({ message: 'the disk is on fire', stack: expect.stringContaining('Error: the disk is on fire') });
    expect(entries().filter((entry) => entry.level >= ERROR)).toHaveLength(1);
    expect(lines.join('')).not.toContain(link.token.split('.')[1]);
  });

  test('paths and query strings are redacted of link tokens', () => {
    expect(redactCredentials('/links/abc.def/extra?x=1&token=secret&y=2')).toBe('/links/[redacted]/extra?x=1&token=[redacted]&y=2');
    expect(redactCredentials('/customers?token=abc')).toBe('/customers?token=[redacted]');
    expect(redactCredentials('/console/sign-in/eyJhbGc.sig?next=%2Fconsole')).toBe('/console/sign-in/[redacted]?next=%2Fconsole');
  });

  test('LOG_FORMAT is json by default, pretty on request, and nothing else', () => {
    expect(loadConfig({}).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrow(ConfigError);
  });
});

describe('request log at warn (production)', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let deskToken: string;
  const lines: string[] = [];
  const links = testSignedLinks();
  const entries = () => lines.map((line) => JSON.parse(line) as LogEntry);

  beforeAll(async () => {
    database = await createTestDatabase();
    app = createTestApp(database.db, {
      links,
      logger: pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) }),
      linkActions: [
        defineLinkAction({
          action: 'test.broken',
          summary: 'Always fails on the server side',
          body: z.object({}),
          perform: async () => {
            throw new Error('the disk is on fire');
          },
        }),
      ],
    });
    deskToken = (await createUsers(database.db, ['service_desk'])).service_desk;
  });
  afterAll(() => database.drop());

  test('a 2xx and a 4xx write nothing but still answer with their request id', async () => {
    const found = await request(app).get('/customers').set(bearer(deskToken)).set('X-Request-Id', 'req-ok');
    expect(found.status).toBe(200);
    expect(found.headers['x-request-id']).toBe('req-ok');
    const refused = await request(app).get('/customers');
    expect(refused.status).toBe(401);
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toEqual([]);
  });

  test('a 5xx is still one line at error with its request id, route, error and stack, the token redacted', async () => {
    const link = links.issue({ caseId: 'case-1', action: 'test.broken', singleUse: false });
    const response = await request(app).post(`/links/${link.token}`).set('X-Request-Id', 'req-500').send({});
    expect(response.status).toBe(500);
    expect(response.body.error.details).toEqual({ requestId: 'req-500' });
    expect(entries()).toHaveLength(1);
    expect(entries()[0]).toMatchObject({ level: ERROR, reqId: 'req-500', method: 'POST', route: '/links/:token', status: 500, ms: expect.any(Number), msg: 'POST /links/:token 500' });
    expect(entries()[0]?.err).toMatchObject({ message: 'the disk is on fire', stack: expect.stringContaining('Error: the disk is on fire') });
    expect(lines.join('')).not.toContain(link.token.split('.')[1]);
  });
});
