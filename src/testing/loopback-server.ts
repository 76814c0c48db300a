// An HTTP server on 127.0.0.1 (a free port) for test doubles: tracks its sockets so `stop()` ends even with
// keep-alive connections or responses still trickling. Shared by the fault proxy and the hostile registry.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LoopbackServer {
  /** host:port (loopback). */
  host: string;
  server: Server;
  stop(): Promise<void>;
}

/**
 * Serve `handle` on 127.0.0.1 (on `port`, when a restarted double must come back where clients know it); a handler
 * that throws destroys its connection (a test double must never hang).
 */
export async function startLoopbackServer(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>, port = 0): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
