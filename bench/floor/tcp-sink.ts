/**
 * The Node.js floor of receiving a publisher's stream: a node:net server on 127.0.0.1:PORT that
 * takes every 'data' event and drops it, which is the least any ingest on the event loop does.
 *
 *   node dist/bench/floor/tcp-sink.js PORT
 */
import { createServer } from 'node:net';

const port = Number(process.argv[2]);
let bytes = 0;
createServer((socket) => {
  socket.on('data', (chunk: Buffer) => { bytes += chunk.length; });
  socket.on('error', () => undefined);
}).listen(port, '127.0.0.1'); // bench/floors.ts polls the port until it accepts
// Keeps `bytes` observable so the handler is not optimised into nothing.
process.on('SIGTERM', () => { process.stderr.write(`tcp-sink received ${bytes} bytes\n`); process.exit(0); });
