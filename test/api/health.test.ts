import net from 'node:net';
import request from 'supertest';
import { createPostgresDb, pingDb } from '../../db';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../support/db';
import { createTestApp } from '../support/app';

/** A TCP proxy in front of PostgreSQL that the test can stop, as if the database server went down. */
async function startStoppableProxy(target: URL): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('health endpoints', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  test('healthz is up and readyz is ready while the database answers', async () => {
    const app = createTestApp(database.db, { readiness: { database: () => pingDb(database.db), temporal: async () => {} } });
    expect((await request(app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } });
  });

  test('a stopped database makes readyz answer 503 naming the failed check, while healthz stays up', async () => {
    const proxy = await startStoppableProxy(new URL(testServerUrl()));
    const url = new URL(database.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const db = createPostgresDb(url.toString());
    try {
      const app = createTestApp(db, { readiness: { database: () => pingDb(db, 1_000), temporal: async () => {} } });
      expect((await request(app).get('/readyz')).status).toBe(200);

      await proxy.stop();
      const notReady = await request(app).get('/readyz');
      expect(notReady.status).toBe(503);
      expect(notReady.body.status).toBe('not_ready');
      expect(notReady.body.checks.database).toEqual({ ok: false, error: expect.any(String) });
      expect(notReady.body.checks.temporal).toEqual({ ok: true });
      expect((await request(app).get('/healthz')).status).toBe(200);
    } finally {
      await db.destroy().catch(() => undefined);
    }
  });
});
