import net from 'node:net';

/**
 * A TCP port of 127.0.0.1 that nothing listens on now: `preferred` when it is free, else one the
 * system picks. (Someone may take it before the caller binds it; callers start at once.)
 */
export async function freeLocalPort(preferred?: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  if (preferred !== undefined && (await tryListen(preferred)) !== undefined) return preferred;
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free local port');
  return port;
}
