#!/usr/bin/env node
// Turns Fashion-MNIST's IDX files (Debian package dataset-fashion-mnist) into an ImageFolder
// of PNGs, OUTDIR/<class>/<index>.png, for the real-data checks (lwfm-spm eval / classify).
//
//   node scripts/fashion-mnist.mjs OUTDIR [--per-class N] [--split test|train] [--source DIR]
//
// --per-class N  images per class (default 20): the first N of each class in file order, so
//                the same N always gives the same files.
// --split        which IDX pair to read (default test: t10k-*).
// --source       directory of the .gz files (default $FASHION_MNIST_DIR, else
//                /usr/share/datasets/fashion-mnist).
// Prints one JSON line {"out", "classes", "perClass", "files"} when done; exit 1 with a message
// when the dataset is missing or unreadable, 2 on bad arguments.
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import sharp from 'sharp';

// The dataset's own class names (https://github.com/zalandoresearch/fashion-mnist), made safe
// as directory names.
export const FASHION_MNIST_CLASSES = [
  't-shirt_top',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'ankle_boot',
];

function usage(message) {
  process.stderr.write(
    `fashion-mnist: ${message}\nusage: node scripts/fashion-mnist.mjs OUTDIR [--per-class N] [--split test|train] [--source DIR]\n`,
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    out: undefined,
    perClass: 20,
    split: 'test',
    source: process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--per-class') {
      const v = value();
      opts.perClass = Number(v);
      if (!Number.isInteger(opts.perClass) || opts.perClass < 1 || opts.perClass > 7000)
        usage(`--per-class must be an integer in 1..7000, got "${v}"`);
    } else if (a === '--split') {
      opts.split = value();
      if (opts.split !== 'test' && opts.split !== 'train') usage(`--split must be test or train, got "${opts.split}"`);
    } else if (a === '--source') opts.source = value();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (opts.out === undefined) opts.out = a;
    else usage(`unexpected argument "${a}"`);
  }
  if (opts.out === undefined) usage('OUTDIR is required');
  return opts;
}

// IDX: big-endian magic (0x0000 0x08 ndim), ndim uint32 sizes, then uint8 data.
function readIdx(file, expectedDims) {
  if (!existsSync(file)) {
    throw new Error(
      `${file} not found: install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or pass --source DIR`,
    );
  }
  const buf = gunzipSync(readFileSync(file));
  const magic = buf.readUInt32BE(0);
  const ndim = magic & 0xff;
  if (magic >>> 8 !== 0x08 || ndim !== expectedDims)
    throw new Error(`${file}: not an IDX uint8 file with ${expectedDims} dimensions (magic 0x${magic.toString(16)})`);
  const dims = Array.from({ length: ndim }, (_, k) => buf.readUInt32BE(4 + 4 * k));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (buf.length !== offset + size)
    throw new Error(`${file}: ${buf.length - offset} data bytes, expected ${size} for dims ${dims.join('x')}`);
  return { dims, data: buf.subarray(offset) };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const prefix = opts.split === 'test' ? 't10k' : 'train';
  const images = readIdx(join(opts.source, `${prefix}-images-idx3-ubyte.gz`), 3);
  const labels = readIdx(join(opts.source, `${prefix}-labels-idx1-ubyte.gz`), 1);
  const [count, h, w] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`${count} images but ${labels.dims[0]} labels`);
  const out = resolve(opts.out);
  for (const name of FASHION_MNIST_CLASSES) mkdirSync(join(out, name), { recursive: true });
  const taken = new Array(FASHION_MNIST_CLASSES.length).fill(0);
  const writes = [];
  for (let i = 0; i < count && taken.some((t) => t < opts.perClass); i++) {
    const y = labels.data[i];
    if (y >= FASHION_MNIST_CLASSES.length) throw new Error(`label ${y} at index ${i} is out of range`);
    if (taken[y] >= opts.perClass) continue;
    taken[y]++;
    const pixels = images.data.subarray(i * h * w, (i + 1) * h * w);
    const file = join(out, FASHION_MNIST_CLASSES[y], `${String(i).padStart(5, '0')}.png`);
    writes.push(
      sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toFile(file),
    );
  }
  await Promise.all(writes);
  const short = taken.findIndex((t) => t < opts.perClass);
  if (short >= 0) throw new Error(`class ${FASHION_MNIST_CLASSES[short]} has only ${taken[short]} images in the ${opts.split} split`);
  process.stdout.write(
    `${JSON.stringify({ out, classes: FASHION_MNIST_CLASSES.length, perClass: opts.perClass, files: writes.length })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`fashion-mnist: ${err.message}\n`);
  process.exit(1);
});
