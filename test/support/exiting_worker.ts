/**
 * A backbone pool worker for test/backbone_failure.test.ts: it speaks the pool's protocol
 * (src/backbone/protocol.ts) without ONNX Runtime, and dies on request the ways real workers
 * die: `exit` ends the thread (as a native abort or an out-of-memory kill does), `throw`
 * raises an uncaught error. Any other "image" gets one float of output.
 */
import { parentPort } from 'node:worker_threads';
import type { JobMessage, WorkerReply } from '../../src/backbone/protocol.js';

const port = parentPort!;
const post = (m: WorkerReply): void => port.postMessage(m);

port.on('message', (msg: JobMessage | { type: 'close' }) => {
  if (msg.type === 'close') return post({ type: 'closed' });
  if (msg.type !== 'images') return post({ type: 'jobError', id: msg.id, message: 'tensor jobs are not simulated' });
  const first = msg.images[0];
  if (first === 'exit') process.exit(7);
  if (first === 'throw') {
    setImmediate(() => {
      throw new Error('simulated uncaught error');
    });
    return;
  }
  // Hold 'slow' jobs so that a test can have several pending on one worker when it dies.
  const reply = (): void =>
    post({
      type: 'result',
      id: msg.id,
      features: new Float32Array(msg.images.length),
      ok: msg.images.map((_, i) => i),
      errors: [],
      decodeMs: 0,
      backboneMs: 0,
    });
  if (first === 'slow') setTimeout(reply, 200);
  else reply();
});

post({ type: 'ready' });
