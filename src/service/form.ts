/**
 * Reading a multipart/form-data request into images and text fields, with the limits
 * enforced while streaming (busboy stops at the byte, file and part limits, so an
 * oversized request is refused without being buffered), unknown part names refused,
 * and every image's pixel count checked from its header before anything decodes it
 * (decompression bombs: a few KB of PNG can claim gigapixels).
 */
import type { FastifyRequest } from 'fastify';
import sharp from 'sharp';
import { HttpError } from './http_errors.js';
import { headerSize } from './image_size.js';

/** Limits that apply to one request's form. */
export interface FormLimits {
  maxImageBytes: number;
  maxImagesPerRequest: number;
  maxImagePixels: number;
}

/**
 * A parsed form: file parts by field name (in request order) and text parts by field name.
 * @example
 * const form = await readForm(req, { files: ['image'], fields: ['label', 'id'] }, limits);
 * form.files.get('image'); // Buffer[]
 */
export interface Form {
  files: Map<string, Buffer[]>;
  fields: Map<string, string[]>;
}

/** Longest accepted text field (labels and ids), in bytes. */
const MAX_FIELD_BYTES = 1024;

/**
 * Reads the request's parts. Throws 415 when it is not multipart, 413 at a limit, 400 for
 * an unknown or wrongly typed part.
 * @example
 * const { files } = await readForm(req, { files: ['image'], fields: [] }, limits);
 */
export async function readForm(
  req: FastifyRequest,
  accept: { files: readonly string[]; fields: readonly string[] },
  limits: FormLimits,
): Promise<Form> {
  if (!req.isMultipart()) {
    throw new HttpError(
      415,
      'ERR_LWFM_MEDIA_TYPE',
      `Expected a multipart/form-data body but received ${JSON.stringify(String(req.headers['content-type'] ?? 'none')).slice(0, 80)}`,
    );
  }
  const files = new Map<string, Buffer[]>(accept.files.map((k) => [k, []]));
  const fields = new Map<string, string[]>(accept.fields.map((k) => [k, []]));
  const parts = req.parts({
    limits: {
      fileSize: limits.maxImageBytes,
      files: limits.maxImagesPerRequest,
      fieldSize: MAX_FIELD_BYTES,
      fields: limits.maxImagesPerRequest + 8,
      parts: 2 * limits.maxImagesPerRequest + 8,
      headerPairs: 16,
    },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      const list = files.get(part.fieldname);
      if (!list) {
        part.file.resume(); // drain it so the parser can continue to the error
        throw unknownPart(part.fieldname, 'file', accept);
      }
      list.push(await part.toBuffer());
    } else {
      const list = fields.get(part.fieldname);
      if (!list) throw unknownPart(part.fieldname, 'text', accept);
      if (part.valueTruncated)
        throw new HttpError(
          413,
          'ERR_LWFM_TOO_LARGE',
          `Text field '${part.fieldname}' is longer than the limit of ${MAX_FIELD_BYTES} bytes`,
        );
      list.push(String(part.value));
    }
  }
  await checkPixels([...files.values()].flat(), limits.maxImagePixels);
  return { files, fields };
}

/**
 * 413 when an image's header claims more than `maxPixels` pixels. Images whose header
 * cannot be read pass: decoding them fails later and is reported in their own slot.
 */
async function checkPixels(images: Buffer[], maxPixels: number): Promise<void> {
  const sizes = await Promise.all(
    images.map((img) => {
      const header = headerSize(img);
      if (header) return header.width * header.height;
      return sharp(img, { limitInputPixels: false })
        .metadata()
        .then(
          (m) => (m.width ?? 0) * (m.pageHeight ?? m.height ?? 0), // first frame: what the backbone decodes
          () => 0,
        );
    }),
  );
  const i = sizes.findIndex((px) => px > maxPixels);
  if (i >= 0) {
    throw new HttpError(
      413,
      'ERR_LWFM_TOO_LARGE',
      `Image #${i} has ${sizes[i]} pixels, over the limit of ${maxPixels} (checked before decoding)`,
    );
  }
}

function unknownPart(name: string, kind: string, accept: { files: readonly string[]; fields: readonly string[] }): HttpError {
  const allowed = [...accept.files.map((f) => `file '${f}'`), ...accept.fields.map((f) => `text '${f}'`)].join(', ');
  return new HttpError(400, 'ERR_LWFM_BAD_REQUEST', `Unexpected ${kind} part '${name.slice(0, 64)}'; this route takes ${allowed}`);
}
