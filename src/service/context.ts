/**
 * What the service's route modules share, in a module of its own so that the plugin
 * imports the routes and the routes import only this (no import cycle).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FewShotClassifier } from '../classifier/classifier.js';
import type { Gate } from './gate.js';
import type { ServiceMetrics } from './metrics.js';
import type { OpenApiCollector } from './openapi.js';
import type { ResolvedOptions } from './options.js';
import type { SupportRegistry } from './registry.js';

/** What the route modules share. */
export interface ServiceContext {
  classifier: FewShotClassifier;
  registry: SupportRegistry;
  gate: Gate;
  metrics: ServiceMetrics | undefined;
  openapi: OpenApiCollector;
  limits: ResolvedOptions['limits'];
  state: { ready: boolean; closing: boolean };
  /** Runs model work in a gate slot under the request's timeout; client disconnects leave the queue. */
  work<T>(req: FastifyRequest, reply: FastifyReply, fn: () => Promise<T>): Promise<T>;
}
