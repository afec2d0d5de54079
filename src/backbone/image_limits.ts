/**
 * The image-size limit shared by the option checks (which must not load sharp) and the
 * decoder in the workers (src/backbone/decode.ts).
 */
import { expectPositiveInteger } from '../validate.js';

/**
 * Default `maxImagePixels`: 40 megapixels (e.g. 7680 x 5120), enough for camera photos and
 * far below sharp's 268 MP default. The model sees 84 x 84 pixels; more than this is a bomb
 * or a mistake, and costs memory per concurrent decode.
 */
export const DEFAULT_MAX_IMAGE_PIXELS = 40_000_000;
/** The most `maxImagePixels` may be raised to: sharp's own default limit (0x3FFF squared). */
export const MAX_IMAGE_PIXELS_CAP = 0x3fff * 0x3fff;

/**
 * Checks a `maxImagePixels` option: undefined (the default) or an integer in [1, MAX_IMAGE_PIXELS_CAP].
 * @example const maxImagePixels = expectMaxImagePixels(options.maxImagePixels, 'options.maxImagePixels');
 */
export function expectMaxImagePixels(value: unknown, name: string): number {
  return value === undefined ? DEFAULT_MAX_IMAGE_PIXELS : expectPositiveInteger(value, name, MAX_IMAGE_PIXELS_CAP);
}
