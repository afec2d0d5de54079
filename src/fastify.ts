/**
 * `lwfm-spm/fastify`: the few-shot classification service as a Fastify plugin.
 * @packageDocumentation
 */
import { lwfmSpmPlugin } from './service/plugin.js';

export { lwfmSpmPlugin };
export type { LwfmSpmPluginOptions } from './service/options.js';
export type { SupportSetInfo } from './service/registry.js';

/**
 * The plugin, as the default export.
 * @example
 * import Fastify from 'fastify';
 * import lwfmSpm from 'lwfm-spm/fastify';
 * const app = Fastify({ logger: true });
 * await app.register(lwfmSpm, { model: './my-model', maxConcurrent: 4 });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 */
export default lwfmSpmPlugin;
