#!/usr/bin/env node
// Renders the sample ImageFolder used by `lwfm-spm demo` and the end-to-end tests:
// samples/<class>/<class>-NN.{jpg,png}, simple shapes and textures drawn as SVG and
// rasterized by sharp. Deterministic (seeded), small, and free of third-party content.
//
//   node tools/make_samples.mjs [OUTDIR]     (default: samples/)
import { mkdirSync, rmSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'samples'));
const SIZE = 96; // a little larger than the 92 -> 84 preprocessing needs
const PER_CLASS = 16; // enough for 5-way 1-shot 15-query episodes

// mulberry32: tiny seeded PRNG, so every run draws the same images.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hsl = (h, s, l) => `hsl(${Math.round(h)},${Math.round(s)}%,${Math.round(l)}%)`;

function polygon(cx, cy, r, n, rot, inner = 0) {
  const pts = [];
  const k = inner ? 2 * n : n;
  for (let i = 0; i < k; i++) {
    const rr = inner && i % 2 ? inner : r;
    const a = rot + (i * 2 * Math.PI) / k - Math.PI / 2;
    pts.push(`${(cx + rr * Math.cos(a)).toFixed(1)},${(cy + rr * Math.sin(a)).toFixed(1)}`);
  }
  return pts.join(' ');
}

// Each class: (random) -> SVG body. Shapes vary in colour, size, position and rotation;
// textures in colours, period and angle.
const classes = {
  circle: (r, fg) => `<circle cx="${40 + 16 * r()}" cy="${40 + 16 * r()}" r="${18 + 14 * r()}" fill="${fg}"/>`,
  square: (r, fg) => {
    const s = 30 + 24 * r();
    return `<rect x="${-s / 2}" y="${-s / 2}" width="${s}" height="${s}" fill="${fg}" transform="translate(${40 + 16 * r()} ${40 + 16 * r()}) rotate(${90 * r()})"/>`;
  },
  triangle: (r, fg) => `<polygon points="${polygon(40 + 16 * r(), 44 + 12 * r(), 22 + 14 * r(), 3, r() * 2 * Math.PI)}" fill="${fg}"/>`,
  star: (r, fg) => {
    const R = 24 + 12 * r();
    return `<polygon points="${polygon(40 + 16 * r(), 40 + 16 * r(), R, 5, r() * 2 * Math.PI, R * 0.42)}" fill="${fg}"/>`;
  },
  stripes: (r, fg) => {
    const period = 8 + 10 * r();
    let body = '';
    for (let x = -SIZE; x < 2 * SIZE; x += period)
      body += `<rect x="${x.toFixed(1)}" y="${-SIZE}" width="${(period / 2).toFixed(1)}" height="${3 * SIZE}" fill="${fg}"/>`;
    return `<g transform="rotate(${180 * r()} ${SIZE / 2} ${SIZE / 2})">${body}</g>`;
  },
  checker: (r, fg) => {
    const cell = 10 + 10 * r();
    let body = '';
    for (let y = -SIZE, i = 0; y < 2 * SIZE; y += cell, i++) {
      for (let x = -SIZE, j = 0; x < 2 * SIZE; x += cell, j++)
        if ((i + j) % 2 === 0)
          body += `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${cell.toFixed(1)}" height="${cell.toFixed(1)}" fill="${fg}"/>`;
    }
    return `<g transform="rotate(${45 * r()} ${SIZE / 2} ${SIZE / 2})">${body}</g>`;
  },
};

rmSync(outDir, { recursive: true, force: true });
let total = 0;
let seed = 20241109;
for (const [name, draw] of Object.entries(classes)) {
  mkdirSync(join(outDir, name), { recursive: true });
  for (let i = 0; i < PER_CLASS; i++) {
    const r = rng(seed++);
    const hue = 360 * r();
    const bg = hsl(hue + 120 + 120 * r(), 20 + 40 * r(), 75 + 20 * r());
    const fg = hsl(hue, 50 + 40 * r(), 25 + 30 * r());
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect width="100%" height="100%" fill="${bg}"/>${draw(r, fg)}</svg>`;
    // Alternate formats so that both decoders are exercised.
    const png = i % 4 === 3;
    const img = sharp(Buffer.from(svg));
    const data = png
      ? await img.png({ compressionLevel: 9, palette: true, colours: 16 }).toBuffer()
      : await img.jpeg({ quality: 75, mozjpeg: true }).toBuffer();
    const file = join(outDir, name, `${name}-${String(i).padStart(2, '0')}.${png ? 'png' : 'jpg'}`);
    writeFileSync(file, data);
    total += data.length;
  }
}
const count = readdirSync(outDir).reduce(
  (n, d) => n + readdirSync(join(outDir, d)).filter((f) => statSync(join(outDir, d, f)).isFile()).length,
  0,
);
console.log(`wrote ${count} images, ${(total / 1024).toFixed(1)} KiB, to ${outDir}`);
