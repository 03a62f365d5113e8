import { createSocket, type Socket } from 'node:dgram';

export interface LossRelay {
  port: number;
  /** Datagrams forwarded and dropped, both directions. */
  readonly counts: { forwarded: number; dropped: number };
  close(): void;
}

/**
 * A UDP relay on 127.0.0.1 that loses a share of the datagrams in both directions, as a lossy
 * network between an SRT encoder and the origin would: the encoder sends to `port`, the relay
 * forwards to `targetPort` from a socket of its own per encoder, and back. `random` decides each
 * loss (a seeded one, so a failure can be replayed).
 */
export async function startLossRelay(o: { targetPort: number; lossRate: number; random: () => number }): Promise<LossRelay> {
  const front = createSocket('udp4');
  const counts = { forwarded: 0, dropped: 0 };
  const upstreams = new Map<string, Socket>();
  const pass = () => {
    if (o.random() < o.lossRate) { counts.dropped++; return false; }
    counts.forwarded++;
    return true;
  };
  front.on('message', (msg, from) => {
    const key = `${from.address}:${from.port}`;
    let up = upstreams.get(key);
    if (!up) {
      up = createSocket('udp4');
      up.on('message', (back) => { if (pass()) front.send(back, from.port, from.address); });
      up.on('error', () => {});
      up.bind(0, '127.0.0.1');
      upstreams.set(key, up);
    }
    if (pass()) up.send(msg, o.targetPort, '127.0.0.1');
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    port: front.address().port,
    counts,
    close() {
      front.close();
      for (const u of upstreams.values()) u.close();
    },
  };
}
