/**
 * Verified downloads of model weights. Follows redirects itself (the Hugging Face Hub answers
 * a file URL with a 302 to its CDN and puts the file's SHA-256 and size in that 302's
 * X-Linked-Etag / X-Linked-Size headers, which an automatic redirect would drop), honours
 * HTTP(S)_PROXY / NO_PROXY through undici's EnvHttpProxyAgent (undici is the library behind
 * Node's own fetch), streams into a temporary file while hashing, and renames it to its
 * destination only when the size and the SHA-256 both match. Any failure removes the
 * temporary file, so nothing unverified is ever left where it could be used.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { EnvHttpProxyAgent, fetch, type Response } from 'undici';
import { ModelDownloadError } from '../errors.js';

/** Progress of one download: bytes received so far and the expected total when known. */
export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

export interface DownloadOptions {
  url: string;
  /** Final path; written only after verification. */
  dest: string;
  /** Expected SHA-256 (hex), when pinned; otherwise the server's X-Linked-Etag is required. */
  sha256?: string;
  /** Give up when no headers or no bytes arrive for this long (ms). Default 60 000. */
  timeoutMs?: number;
  /** Refuse bodies larger than this. Default 2 GiB. */
  maxBytes?: number;
  onProgress?: (p: DownloadProgress) => void;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  size: number;
}

const MAX_REDIRECTS = 10;

let agent: EnvHttpProxyAgent | undefined;

/** X-Linked-Etag / ETag value as a SHA-256 hex digest, or undefined when it is not one. */
function sha256Of(etag: string | null): string | undefined {
  const v = etag
    ?.trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  return v && /^[0-9a-f]{64}$/.test(v) ? v : undefined;
}

function integer(v: string | null): number | undefined {
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v) : undefined;
}

/** Runs `fetchOnce` with a stall timer: `arm()` (re)starts it, abort fires when it runs out. */
class StallTimer {
  readonly controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  constructor(private readonly ms: number) {}
  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.controller.abort(new Error(`no data for ${this.ms} ms`)), this.ms);
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Follows redirects by hand, collecting the hub's X-Linked-* headers on the way. Returns the
 * final response and what the hops announced.
 */
async function resolveFinal(url: string, stall: StallTimer): Promise<{ res: Response; sha256?: string; size?: number }> {
  agent ??= new EnvHttpProxyAgent();
  let current = url;
  let sha256: string | undefined;
  let size: number | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    stall.arm();
    let res: Response;
    try {
      res = await fetch(current, {
        redirect: 'manual',
        dispatcher: agent,
        signal: stall.controller.signal,
        headers: { 'user-agent': 'lwfm-spm' },
      });
    } catch (e) {
      const reason = stall.controller.signal.aborted
        ? (stall.controller.signal.reason as Error).message
        : (((e as Error).cause as Error | undefined)?.message ?? (e as Error).message);
      throw new ModelDownloadError(url, `cannot reach ${new URL(current).host} (${reason})`, { cause: e });
    }
    sha256 ??= sha256Of(res.headers.get('x-linked-etag'));
    size ??= integer(res.headers.get('x-linked-size'));
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      current = new URL(location, current).href;
      continue;
    }
    return { res, sha256, size };
  }
  throw new ModelDownloadError(url, `more than ${MAX_REDIRECTS} redirects`);
}

/**
 * Downloads `url` to `dest`, verified by size (Content-Length / X-Linked-Size) and SHA-256
 * (pinned, else the server's X-Linked-Etag). Throws ModelDownloadError with the HTTP status,
 * the expected and received size or hash, or the stall; `dest` is untouched then.
 * @example
 * const { sha256 } = await downloadVerified({ url: 'https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors', dest: '/tmp/r18.safetensors' });
 */
export async function downloadVerified(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest } = opts;
  const stall = new StallTimer(opts.timeoutMs ?? 60_000);
  const part = `${dest}.part-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const { res, sha256: linked, size: linkedSize } = await resolveFinal(url, stall);
    if (!res.ok) {
      await res.body?.cancel();
      throw new ModelDownloadError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, { status: res.status });
    }
    const type = res.headers.get('content-type') ?? '';
    if (/text\/html/i.test(type)) {
      await res.body?.cancel();
      throw new ModelDownloadError(
        url,
        `the server sent an HTML page (content-type ${type}), not the weights file; a proxy or login page may be in the way`,
        { status: res.status },
      );
    }
    const expectedSha = opts.sha256?.toLowerCase() ?? linked ?? sha256Of(res.headers.get('etag'));
    if (!expectedSha) {
      await res.body?.cancel();
      throw new ModelDownloadError(
        url,
        'the server sent no SHA-256 (X-Linked-Etag) to verify the file against; use --from FILE with a file you trust',
      );
    }
    const contentLength = integer(res.headers.get('content-length'));
    if (linkedSize !== undefined && contentLength !== undefined && linkedSize !== contentLength) {
      await res.body?.cancel();
      throw new ModelDownloadError(
        url,
        `the hub announced ${linkedSize} bytes (X-Linked-Size) but the download is ${contentLength} bytes (Content-Length)`,
      );
    }
    const total = contentLength ?? linkedSize;
    const max = opts.maxBytes ?? 2 ** 31;
    if (total !== undefined && total > max) throw new ModelDownloadError(url, `the file is ${total} bytes, more than the ${max} allowed`);
    if (!res.body) throw new ModelDownloadError(url, 'the response has no body');

    const hash = createHash('sha256');
    let received = 0;
    const file = await open(part, 'wx');
    try {
      stall.arm();
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        stall.arm();
        received += chunk.byteLength;
        if (received > (total ?? max)) throw new ModelDownloadError(url, `received more than the ${total ?? max} bytes announced`);
        hash.update(chunk);
        await file.write(chunk);
        opts.onProgress?.({ received, total });
      }
    } catch (e) {
      if (e instanceof ModelDownloadError) throw e;
      const why = stall.controller.signal.aborted
        ? `stalled: ${(stall.controller.signal.reason as Error).message}`
        : `interrupted: ${(e as Error).message}`;
      throw new ModelDownloadError(url, `${why} after ${received}${total !== undefined ? ` of ${total}` : ''} bytes`, { cause: e });
    } finally {
      stall.stop();
      await file.close();
    }
    if (total !== undefined && received !== total) throw new ModelDownloadError(url, `truncated: received ${received} of ${total} bytes`);
    const got = hash.digest('hex');
    if (got !== expectedSha)
      throw new ModelDownloadError(url, `SHA-256 mismatch: expected ${expectedSha}, received ${got} (${received} bytes)`);
    await rename(part, dest);
    return { path: dest, sha256: got, size: received };
  } finally {
    stall.stop();
    await rm(part, { force: true });
  }
}
