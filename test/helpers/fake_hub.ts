/**
 * A loopback HTTP server that answers like the Hugging Face Hub for
 * `/<repo>/resolve/main/model.safetensors`: a 302 to a second (CDN) path carrying
 * X-Linked-Etag (the file's SHA-256) and X-Linked-Size, then the file with Content-Length.
 * Each file can be told to misbehave, to test what the downloader does with it.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HubBehaviour = 'ok' | 'wrong-hash' | 'truncate' | '404' | 'stall' | 'html' | 'no-etag';

export interface FakeHub {
  url: string;
  /** Serve `bytes` for `repo` (e.g. 'timm/resnet18.tv_in1k'). */
  serve(repo: string, bytes: Uint8Array, behaviour?: HubBehaviour): void;
  /** Requests per path, e.g. hits('/cdn/timm/resnet18.tv_in1k'). */
  hits(path: string): number;
  close(): Promise<void>;
}

export async function startFakeHub(): Promise<FakeHub> {
  const files = new Map<string, { bytes: Uint8Array; sha256: string; behaviour: HubBehaviour }>();
  const hits = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const resolveMatch = /^\/(.+)\/resolve\/main\/model\.safetensors$/.exec(path);
    const cdnMatch = /^\/cdn\/(.+)$/.exec(path);
    const repo = resolveMatch?.[1] ?? cdnMatch?.[1];
    const f = repo ? files.get(repo) : undefined;
    if (!f || f.behaviour === '404') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found');
      return;
    }
    if (resolveMatch) {
      const headers: Record<string, string> = { location: `/cdn/${repo}?signature=abc`, 'x-linked-size': String(f.bytes.length) };
      if (f.behaviour !== 'no-etag') headers['x-linked-etag'] = `"${f.behaviour === 'wrong-hash' ? 'f'.repeat(64) : f.sha256}"`;
      res.writeHead(302, headers).end();
      return;
    }
    if (f.behaviour === 'html') {
      const page = '<!doctype html><html><body>Please log in</body></html>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(page.length) }).end(page);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(f.bytes.length) });
    if (f.behaviour === 'truncate') {
      // the connection drops half way, once the first half is on the wire
      res.write(f.bytes.subarray(0, f.bytes.length >> 1), () => setTimeout(() => res.destroy(), 20));
    } else if (f.behaviour === 'stall') {
      res.write(f.bytes.subarray(0, 1000));
      stalled.add(res); // and then nothing
    } else {
      res.end(f.bytes);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    serve(repo, bytes, behaviour = 'ok') {
      files.set(repo, { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), behaviour });
    },
    hits: (path) => hits.get(path) ?? 0,
    close: async () => {
      for (const r of stalled) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
