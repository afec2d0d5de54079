/**
 * Support sets in Redis: one hash per set holding a version counter and the encoded
 * embeddings (src/classifier/support_codec.ts) of the newest versions. A new version
 * is written by one Lua script (counter, bytes and pruning at once), so a reader sees
 * either the old set or the new one, never half of each. Workers cache decoded sets
 * by version: a job costs one HGET of the counter when the set has not changed.
 *
 * One key per set keeps every script on one Redis Cluster slot.
 */
import type { Redis } from 'ioredis';
import { decodeSupportSnapshot, encodeSupportSnapshot, type SupportModelIdentity } from '../classifier/support_codec.js';
import type { SupportSnapshot } from '../classifier/classifier.js';
import { LwfmError } from '../errors.js';
import { QueueJobError } from './protocol.js';

/** Versions kept besides the newest, for readers that read the counter just before an update. */
const KEEP_PREVIOUS = 1;

const PUT_SCRIPT = `
local v = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'v' .. v, ARGV[1])
local old = v - 1 - tonumber(ARGV[2])
if old >= 1 then redis.call('HDEL', KEYS[1], 'v' .. old) end
return v`;

/** Redis key of a support set. */
export function supportKey(prefix: string, queue: string, id: string): string {
  return `${prefix}:${queue}:lwfm-support:${id}`;
}

/** Stores a new version of a support set and returns its version number (1, 2, ...). */
export async function putSupport(redis: Redis, key: string, snapshot: SupportSnapshot, model: SupportModelIdentity): Promise<number> {
  const bytes = encodeSupportSnapshot(snapshot, model);
  const v = await redis.eval(PUT_SCRIPT, 1, key, bytes, String(KEEP_PREVIOUS));
  return Number(v);
}

/** A decoded support set and its version. */
export interface VersionedSupport {
  id: string;
  version: number;
  snapshot: SupportSnapshot;
}

/**
 * Worker-side cache of decoded support sets, newest version per id, at most `limit` ids.
 * Missing sets and sets made by another model fail the job permanently (retrying
 * cannot help); Redis errors propagate and the job is retried.
 */
export class SupportCache {
  readonly #sets = new Map<string, VersionedSupport>();
  readonly #redis: Redis;
  readonly #keyOf: (id: string) => string;
  readonly #model: SupportModelIdentity;
  readonly #limit: number;

  constructor(redis: Redis, keyOf: (id: string) => string, model: SupportModelIdentity, limit = 32) {
    this.#redis = redis;
    this.#keyOf = keyOf;
    this.#model = model;
    this.#limit = limit;
  }

  /** The newest version of set `id` (from the cache when unchanged). */
  async get(id: string): Promise<VersionedSupport> {
    const key = this.#keyOf(id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = await this.#redis.hget(key, 'version');
      if (raw === null)
        throw new QueueJobError(`No support set '${id}' in Redis: store it with putSupportSet first`, 'ERR_LWFM_QUEUE_UNKNOWN_SUPPORT');
      const version = Number(raw);
      const cached = this.#sets.get(id);
      if (cached && cached.version === version) {
        // Map order is recency order: re-insert on use.
        this.#sets.delete(id);
        this.#sets.set(id, cached);
        return cached;
      }
      const bytes = await this.#redis.hgetBuffer(key, `v${version}`);
      if (bytes === null) continue; // pruned by two updates since the counter was read: read it again
      let snapshot: SupportSnapshot;
      try {
        snapshot = decodeSupportSnapshot(bytes, { expect: this.#model }).snapshot;
      } catch (err) {
        const code = err instanceof LwfmError ? err.code : 'ERR_LWFM_SUPPORT_FORMAT';
        throw new QueueJobError(`Support set '${id}' version ${version} is unusable here: ${(err as Error).message}`, code, undefined, {
          cause: err,
        });
      }
      const entry = { id, version, snapshot };
      this.#sets.delete(id);
      this.#sets.set(id, entry);
      if (this.#sets.size > this.#limit) this.#sets.delete(this.#sets.keys().next().value!);
      return entry;
    }
    throw new LwfmError(`Support set '${id}' changed five times while being read`, 'ERR_LWFM_QUEUE_SUPPORT_BUSY');
  }
}
