/**
 * N-way K-shot episode sampling from an ImageFolder, deterministic for a seed.
 * Each episode draws `way` distinct classes, then `shot + query` distinct images
 * of each: the first `shot` are support, the rest queries.
 */
import { DatasetError } from './dataset_error.js';
import type { ImageFolder } from './image_folder.js';
import { Rng, type Seed } from './rng.js';
import { expectPositiveInteger } from '../validate.js';

/** An image of an episode with its episode-local class index (0..way-1). */
export interface EpisodeImage {
  file: string;
  label: number;
}

/** One sampled episode. */
export interface Episode {
  /** Class names, indexed by the episode-local label. */
  classes: string[];
  /** `shot` images per class, class-major. */
  support: EpisodeImage[];
  /** `query` images per class, class-major. */
  query: EpisodeImage[];
}

/** Episode shape. */
export interface EpisodeShape {
  way: number;
  shot: number;
  query: number;
}

/**
 * Draws episodes from a scanned ImageFolder.
 * @example
 * const sampler = new EpisodeSampler(scanImageFolder('samples'), { way: 5, shot: 1, query: 3 }, 42);
 * const episode = sampler.next();
 */
export class EpisodeSampler {
  readonly shape: EpisodeShape;
  readonly #folder: ImageFolder;
  readonly #rng: Rng;
  readonly #excluded = new Set<string>();
  /** Files per class, without the excluded ones (same order as the folder). */
  #pools: string[][];

  constructor(folder: ImageFolder, shape: EpisodeShape, seed: Seed = 0) {
    this.shape = {
      way: expectPositiveInteger(shape.way, 'way', 100_000),
      shot: expectPositiveInteger(shape.shot, 'shot', 100_000),
      query: expectPositiveInteger(shape.query, 'query', 100_000),
    };
    this.#folder = folder;
    this.#rng = new Rng(seed);
    this.#pools = folder.classes.map((c) => c.files.slice());
    this.#validate();
  }

  /** Files removed from sampling (e.g. unreadable images). */
  get excluded(): ReadonlySet<string> {
    return this.#excluded;
  }

  /**
   * Removes files from all later episodes, then re-checks that enough classes
   * still have `shot + query` images (throws DatasetError otherwise).
   */
  exclude(files: Iterable<string>): void {
    for (const f of files) this.#excluded.add(f);
    this.#pools = this.#folder.classes.map((c) => c.files.filter((f) => !this.#excluded.has(f)));
    this.#validate();
  }

  /** The next episode. */
  next(): Episode {
    const { way, shot, query } = this.shape;
    const need = shot + query;
    const eligible = this.#eligible();
    const chosen = this.#rng.sample(eligible.length, way).map((i) => eligible[i]!);
    const episode: Episode = { classes: [], support: [], query: [] };
    chosen.forEach((classIndex, label) => {
      const pool = this.#pools[classIndex]!;
      const picks = this.#rng.sample(pool.length, need);
      episode.classes.push(this.#folder.classes[classIndex]!.name);
      for (let k = 0; k < need; k++) {
        const image = { file: pool[picks[k]!]!, label };
        (k < shot ? episode.support : episode.query).push(image);
      }
    });
    // Support class-major then query class-major, as the loops above produce.
    return episode;
  }

  #eligible(): number[] {
    const need = this.shape.shot + this.shape.query;
    const out: number[] = [];
    this.#pools.forEach((pool, i) => {
      if (pool.length >= need) out.push(i);
    });
    return out;
  }

  #validate(): void {
    const { way, shot, query } = this.shape;
    const need = shot + query;
    const total = this.#folder.classes.length;
    if (total < way) {
      throw new DatasetError(
        this.#folder.root,
        `has ${total} class director${total === 1 ? 'y' : 'ies'} but way = ${way} needs at least ${way}`,
      );
    }
    const small = this.#folder.classes.map((c, i) => ({ name: c.name, count: this.#pools[i]!.length })).filter((c) => c.count < need);
    if (small.length > 0) {
      // Every class must be usable: silently sampling from a subset would change what
      // the reported accuracy means.
      const excludedNote =
        this.#excluded.size > 0 ? ` (after skipping ${this.#excluded.size} unreadable image${this.#excluded.size === 1 ? '' : 's'})` : '';
      const list = small
        .slice(0, 10)
        .map((c) => `${c.name} (${c.count})`)
        .join(', ');
      const more = small.length > 10 ? ` and ${small.length - 10} more` : '';
      throw new DatasetError(
        this.#folder.root,
        `every class needs at least shot + query = ${shot} + ${query} = ${need} images${excludedNote}, but ${small.length} class${small.length === 1 ? ' has' : 'es have'} fewer: ${list}${more}`,
      );
    }
  }
}
