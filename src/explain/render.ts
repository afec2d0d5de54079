/**
 * renderExplanation: a PNG of why a query got its prediction. Per class shown (best first):
 * the query and the class's best-matching support image as the model saw them (resized and
 * center-cropped), each with the best tap's attention as a translucent heat map on its F x F
 * grid, lines between matched pixel cells (top-k in yellow, thickness by similarity), and bars
 * of the class's global and matching terms. One SVG (the images embedded) rasterised by sharp.
 */
import sharp from 'sharp';
import { expectOptions, expectPositiveInteger } from '../validate.js';
import type { ClassExplanation, ExplainedImage, Explanation } from './explanation.js';

/**
 * Options of {@link renderExplanation}.
 * @example
 * const png = await renderExplanation(explanation, { width: 1200 });
 */
export interface RenderOptions {
  /** Width of the PNG in pixels (320..4096); the height follows from the number of classes. Default 960. */
  width?: number;
}

interface Layout {
  width: number;
  height: number;
  pad: number;
  tile: number;
  gap: number;
  header: number;
  row: number;
}

function layoutFor(width: number, rows: number): Layout {
  const pad = Math.round(width * 0.02);
  const tile = Math.round(width * 0.26);
  const gap = Math.round(width * 0.03);
  const header = Math.round(width * 0.06);
  const row = tile + Math.round(width * 0.05);
  return { width, height: header + rows * row + pad, pad, tile, gap, header, row };
}

const escapeXml = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));

/**
 * The image as the model saw it (resized, then center-cropped), as a PNG data URI at the model's
 * own resolution (crop x crop): the SVG scales it to the tile, so the picture is rasterised once.
 * Undefined when the image is unknown or unreadable (a grey tile is drawn instead).
 */
async function tileOf(source: ExplainedImage, geometry: Explanation['geometry']): Promise<string | undefined> {
  if (source === undefined) return undefined;
  try {
    const offset = Math.round((geometry.resize - geometry.crop) / 2);
    const resized = await sharp(source, { limitInputPixels: 64_000_000 })
      .rotate()
      .resize(geometry.resize, geometry.resize, { fit: 'fill' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const png = await sharp(resized.data, { raw: { width: geometry.resize, height: geometry.resize, channels: resized.info.channels } })
      .extract({ left: offset, top: offset, width: geometry.crop, height: geometry.crop })
      .toColourspace('srgb')
      .png({ compressionLevel: 1 })
      .toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    return undefined;
  }
}

/** One tile: the image scaled to tile x tile, or a grey square. */
function tileSvg(uri: string | undefined, x: number, y: number, tile: number): string {
  return uri === undefined
    ? `<rect x="${x}" y="${y}" width="${tile}" height="${tile}" fill="#9a9a9a"/>`
    : `<image x="${x}" y="${y}" width="${tile}" height="${tile}" preserveAspectRatio="none" href="${uri}"/>`;
}

/**
 * Heat cells over one tile, opacity from the attention stretched over its own min..max: the
 * weights of one map often differ by a few percent, and a plain w / max would paint them alike.
 */
function heat(x: number, y: number, tile: number, f: number, weights: readonly number[]): string {
  const min = Math.min(...weights);
  const span = Math.max(Math.max(...weights) - min, 1e-12);
  const cell = tile / f;
  return weights
    .map((w, p) => {
      const cx = x + (p % f) * cell;
      const cy = y + Math.floor(p / f) * cell;
      const opacity = 0.05 + (0.55 * (w - min)) / span;
      return `<rect x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" width="${cell.toFixed(1)}" height="${cell.toFixed(1)}" fill="#ff3b1f" fill-opacity="${opacity.toFixed(3)}"/>`;
    })
    .join('');
}

function classRow(ex: Explanation, c: ClassExplanation, top: number, l: Layout, best: { min: number; max: number }): string {
  const f = ex.featureSize;
  const qx = l.pad;
  const sx = l.pad + l.tile + l.gap;
  const cell = l.tile / f;
  const parts: string[] = [];
  const shot = c.supports[0];
  const font = Math.max(10, Math.round(l.width / 70));
  const title = `${escapeXml(String(c.label))}${c.index === ex.prediction.index ? ' (predicted)' : ''}: p = ${c.probability.toFixed(3)}`;
  parts.push(
    `<text x="${qx}" y="${top - font * 0.4}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#111">${title}</text>`,
  );
  if (shot) {
    const tap = shot.taps[shot.bestTap]!;
    parts.push(heat(qx, top, l.tile, f, tap.queryAttention), heat(sx, top, l.tile, f, tap.supportAttention));
    if (tap.assignment && tap.similarity) {
      const topSet = new Set(tap.topK ?? []);
      tap.assignment.forEach((j, i) => {
        const x1 = sx + ((i % f) + 0.5) * cell;
        const y1 = top + (Math.floor(i / f) + 0.5) * cell;
        const x2 = qx + ((j % f) + 0.5) * cell;
        const y2 = top + (Math.floor(j / f) + 0.5) * cell;
        const width = 0.6 + 3.4 * Math.max(0, Math.min(1, (tap.similarity![i]! + 1) / 2));
        const stroke = topSet.has(i) ? '#ffd400' : '#ffffff';
        const opacity = topSet.has(i) ? 1 : 0.55;
        // An arc rising with the horizontal distance, so matches within one row stay apart.
        const lift = 0.25 * Math.abs(x1 - x2) * (0.6 + (0.4 * (i % f)) / Math.max(1, f - 1));
        const mx = (x1 + x2) / 2;
        const my = (y1 + y2) / 2 - lift;
        const w = (width * (topSet.has(i) ? 1.5 : 1)).toFixed(2);
        parts.push(
          `<path d="M${x1.toFixed(1)} ${y1.toFixed(1)} Q${mx.toFixed(1)} ${my.toFixed(1)} ${x2.toFixed(1)} ${y2.toFixed(1)}" fill="none" stroke="${stroke}" stroke-opacity="${opacity}" stroke-width="${w}" stroke-linecap="round"/>`,
          `<circle cx="${x1.toFixed(1)}" cy="${y1.toFixed(1)}" r="${(cell * 0.06).toFixed(1)}" fill="${stroke}"/>`,
          `<circle cx="${x2.toFixed(1)}" cy="${y2.toFixed(1)}" r="${(cell * 0.06).toFixed(1)}" fill="${stroke}"/>`,
        );
      });
    }
    for (const x of [qx, sx]) {
      parts.push(`<rect x="${x}" y="${top}" width="${l.tile}" height="${l.tile}" fill="none" stroke="#333" stroke-width="1"/>`);
    }
  }
  // Bars: global and matching terms on one scale shared by every row.
  const bx = sx + l.tile + l.gap;
  const bw = l.width - l.pad - bx;
  const span = Math.max(best.max - Math.min(0, best.min), 1e-9);
  const zero = bx + (bw * -Math.min(0, best.min)) / span;
  const bar = (value: number, y: number, color: string, name: string): string => {
    const x0 = value >= 0 ? zero : zero + (bw * value) / span;
    const w = Math.max(1, (bw * Math.abs(value)) / span);
    return (
      `<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${font * 1.3}" fill="${color}"/>` +
      `<text x="${bx}" y="${y - font * 0.3}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#222">${name} ${fmt(value)}</text>`
    );
  };
  parts.push(bar(c.global, top + font * 1.6, '#3b6fd8', 'global g'), bar(c.matching, top + font * 4.6, '#2ca25f', 'matching M'));
  parts.push(
    `<text x="${bx}" y="${top + font * 8.4}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#222">logit (g + M) / T = ${fmt(c.logit)}</text>`,
  );
  if (!shot?.taps[shot.bestTap]?.assignment) {
    parts.push(
      `<text x="${bx}" y="${top + font * 10}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="#666">matching off (matcherWeight 0)</text>`,
    );
  }
  return parts.join('');
}

/**
 * Renders an explanation (from `classifier.explain`) as a PNG: per class shown, the query and
 * the class's best-matching support image with attention heat maps, matched-pixel lines
 * (top-k yellow, thicker = more similar) and the global and matching terms as bars.
 * @example
 * import { writeFileSync } from 'node:fs';
 * const explanation = await classifier.explain('query.jpg');
 * writeFileSync('why.png', await renderExplanation(explanation, { width: 960 }));
 */
export async function renderExplanation(explanation: Explanation, options: RenderOptions = {}): Promise<Buffer> {
  const o = expectOptions(options, 'options');
  const width = o.width === undefined ? 960 : expectPositiveInteger(o.width, 'options.width', 4096);
  if (width < 320) throw new RangeError(`Expected options.width in [320, 4096] but received ${width}`);
  const ex = expectOptions(explanation, 'explanation') as unknown as Explanation;
  if (!Array.isArray(ex.classes) || ex.classes.length === 0 || !ex.geometry || !Number.isInteger(ex.featureSize)) {
    throw new TypeError(
      'Expected an Explanation from classifier.explain() for explanation but received an object without classes/geometry',
    );
  }
  const l = layoutFor(width, ex.classes.length);
  const values = ex.classes.flatMap((c) => [c.global, c.matching]);
  const range = { min: Math.min(...values), max: Math.max(...values) };
  const [queryTile, ...supportTiles] = await Promise.all([
    tileOf(ex.query.source, ex.geometry),
    ...ex.classes.map((c) => tileOf(c.supports[0]?.source, ex.geometry)),
  ]);
  const rows: string[] = [];
  for (let r = 0; r < ex.classes.length; r++) {
    const top = l.header + r * l.row + Math.round(width * 0.03);
    rows.push(
      tileSvg(queryTile, l.pad, top, l.tile),
      tileSvg(supportTiles[r], l.pad + l.tile + l.gap, top, l.tile),
      classRow(ex, ex.classes[r]!, top, l, range),
    );
  }
  const font = Math.max(12, Math.round(width / 55));
  const header =
    `<text x="${l.pad}" y="${font * 1.4}" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold" fill="#111">` +
    `Prediction: ${escapeXml(String(ex.prediction.label))} (p = ${ex.prediction.probability.toFixed(3)}); left: query, right: best-matching support image</text>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}">` +
    `<rect width="${l.width}" height="${l.height}" fill="#ffffff"/>${header}${rows.join('')}</svg>`;
  // One rasterisation of one SVG (images included), then PNG at a fast compression level: the
  // picture is for looking at, not archiving.
  return sharp(Buffer.from(svg)).removeAlpha().png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer();
}
