/** Versions of the default model; bump DEFAULT_MODEL_VERSION when its weights or graph layout change (older caches are then ignored). */
export const DEFAULT_MODEL_VERSION = 1;
export const DEFAULT_CONVERTER_VERSION = '1.0.0';
