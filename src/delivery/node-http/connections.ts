import type { Socket } from 'node:net';

/**
 * Tracks a server's sockets and how many HTTP/1.1 requests each has in flight, so close() can
 * drop idle keep-alive connections at once, let busy ones finish their response, and drop
 * whatever is left after the grace period. One tracker serves node:http and the HTTP/1.1
 * fallback of node:http2 (which has no closeIdleConnections()).
 */
export class ConnectionTracker {
  /** Every accepted TCP socket (for TLS: the raw socket under the TLS one). */
  private readonly all = new Set<Socket>();
  /** Sockets carrying HTTP/1.1 (for TLS: the TLS socket) ▶ requests in flight. */
  private readonly http1 = new Map<Socket, number>();
  private closing = false;

  /** Call from the server's 'connection' event. */
  add(socket: Socket): void {
    if (this.closing) { socket.destroy(); return; }
    this.all.add(socket);
    socket.once('close', () => this.all.delete(socket));
  }

  /** This socket speaks HTTP/1.1 (a node:http connection, or a TLS connection without h2 in ALPN). */
  markHttp1(socket: Socket): void {
    if (this.http1.has(socket)) return;
    if (this.closing) { socket.destroy(); return; }
    this.http1.set(socket, 0);
    socket.once('close', () => this.http1.delete(socket));
  }

  /** An HTTP/1.1 request began on this socket; returns the function to call when its response closes. */
  begin(socket: Socket | null | undefined): () => void {
    if (!socket) return () => undefined;
    this.markHttp1(socket);
    this.http1.set(socket, (this.http1.get(socket) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended || !this.http1.has(socket)) return;
      ended = true;
      const n = (this.http1.get(socket) ?? 1) - 1;
      this.http1.set(socket, n);
      if (this.closing && n === 0) socket.destroy();
    };
  }

  /** From now on idle HTTP/1.1 sockets are destroyed (now, and whenever their last response ends). */
  closeIdle(): void {
    this.closing = true;
    for (const [s, n] of this.http1) if (n === 0) s.destroy();
  }

  destroyAll(): void {
    this.closing = true;
    for (const s of this.all) s.destroy();
    for (const s of this.http1.keys()) s.destroy();
  }
}
