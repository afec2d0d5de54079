/**
 * Prometheus metrics of the service, in a registry of its own (never prom-client's
 * global one, so two plugin instances or a host app's metrics do not collide). Route
 * labels are route templates (`/v1/support-sets/:id/classify`), never raw URLs, so the
 * number of series stays bounded whatever clients send.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StageTimings } from '../classifier/timings.js';

/**
 * The metrics and how they are fed.
 * @example
 * const metrics = new ServiceMetrics();
 * metrics.request('POST', '/v1/embed', 200, 0.031);
 * const text = await metrics.registry.metrics();
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #latency: Histogram<'method' | 'route'>;
  readonly #stages: Histogram<'stage'>;
  readonly #images: Counter<'outcome'>;
  readonly #errors: Counter<'code'>;

  constructor(gauges: { queueDepth: () => number; inFlight: () => number; supportSets: () => number; supportImages: () => number }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'lwfm_' });
    this.#requests = new Counter({
      name: 'lwfm_http_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'lwfm_http_request_duration_seconds',
      help: 'HTTP request latency by method and route template',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#stages = new Histogram({
      name: 'lwfm_stage_duration_seconds',
      help: 'Time per pipeline stage of one request: decode (image decoding and preprocessing), backbone, head',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.#images = new Counter({
      name: 'lwfm_images_classified_total',
      help: 'Query images classified (ok) or unreadable (error)',
      labelNames: ['outcome'],
      registers,
    });
    this.#errors = new Counter({
      name: 'lwfm_errors_total',
      help: 'Error replies and per-image errors by error code',
      labelNames: ['code'],
      registers,
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };
    gauge('lwfm_queue_depth', 'Requests waiting for a model slot', gauges.queueDepth);
    gauge('lwfm_requests_in_flight', 'Requests holding a model slot', gauges.inFlight);
    gauge('lwfm_support_sets', 'Support sets held', gauges.supportSets);
    gauge('lwfm_support_images', 'Support images held over all sets', gauges.supportImages);
  }

  /** One finished HTTP request. */
  request(method: string, route: string, status: number, seconds: number): void {
    this.#requests.inc({ method, route, status: String(status) });
    this.#latency.observe({ method, route }, seconds);
  }

  /** Stage times of one request's model work (milliseconds, as the classifier reports them). */
  stages(t: Pick<StageTimings, 'decode' | 'backbone' | 'head'>): void {
    this.#stages.observe({ stage: 'decode' }, t.decode / 1000);
    this.#stages.observe({ stage: 'backbone' }, t.backbone / 1000);
    if (t.head > 0) this.#stages.observe({ stage: 'head' }, t.head / 1000);
  }

  /** Query images: how many were classified and how many were unreadable. */
  images(ok: number, failed: number): void {
    if (ok > 0) this.#images.inc({ outcome: 'ok' }, ok);
    if (failed > 0) this.#images.inc({ outcome: 'error' }, failed);
  }

  /** One error by code (an error reply, or one unreadable image). */
  error(code: string, count = 1): void {
    this.#errors.inc({ code }, count);
  }
}
