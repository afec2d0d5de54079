/**
 * Redis connections for producers and workers. Commands wait through a Redis
 * restart instead of failing (maxRetriesPerRequest: null, offline queue on), and
 * reconnects back off up to 2 s: a restarted Redis is picked up within seconds and
 * nothing already acknowledged is resent twice (adds carry job ids, so a resent add
 * is a no-op anyway).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { expectedMessage } from '../validate.js';

/**
 * Where Redis is: a `redis://host:port` URL, ioredis options, or an ioredis client
 * (which the caller keeps and closes).
 * @example
 * const connection: QueueConnection = 'redis://127.0.0.1:6379';
 */
export type QueueConnection = string | RedisOptions | Redis;

const RECONNECT: RedisOptions = {
  maxRetriesPerRequest: null,
  enableOfflineQueue: true,
  retryStrategy: (times: number) => Math.min(100 * times, 2000),
};

/** An ioredis client for `connection`, and whether we own it (and must close it). */
export function openConnection(connection: unknown, name: string): { redis: Redis; owned: boolean } {
  if (connection instanceof Redis) return { redis: connection, owned: false };
  if (typeof connection === 'string') {
    if (!/^rediss?:\/\//.test(connection)) throw new TypeError(expectedMessage('redis:// or rediss:// URL', name, connection));
    return { redis: new Redis(connection, RECONNECT), owned: true };
  }
  if (connection !== null && typeof connection === 'object' && !Array.isArray(connection)) {
    return { redis: new Redis({ ...(connection as RedisOptions), ...RECONNECT }), owned: true };
  }
  throw new TypeError(expectedMessage('Redis URL, ioredis options or ioredis client', name, connection));
}

/** Closes a connection we opened; QUIT when possible, disconnect when Redis is gone. */
export async function closeConnection(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timed out')), 1000).unref())]);
  } catch {
    redis.disconnect();
  }
}
