/**
 * Child-process side of the memory-budget check in test/batch_decode.test.ts: decodes `count`
 * copies of a small PNG that declares 1,000,000 x 16 pixels (about 140 MB each to decode and
 * preprocess) in one decodePngBatch call, and prints the growth of the peak RSS in MB.
 *
 * Run: node --import tsx test/helpers/batch_decode_memory_case.ts <count>
 * Prints one JSON line: { count, decoded, peakGrowthMB }.
 */
import { native } from '../../src/binding.js';
import { grayBits } from './image_bomb.js';

const count = Number(process.argv[2] ?? 1);
const png = grayBits(1_000_000, 16);
const spec = { resize: 92, crop: 84, offset: 4, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
// Warm up the thread pool and the allocator with a small image first, so that the growth
// measured below is the large decodes' own.
await native.decodePngBatch([png.subarray(0, 8)], 16_000_000, spec);
const before = process.resourceUsage().maxRSS;
const { decoded } = await native.decodePngBatch(Array<Uint8Array>(count).fill(png), 16_000_000, spec);
const peakGrowthMB = (process.resourceUsage().maxRSS - before) / 1024;
console.log(JSON.stringify({ count, decoded: [...decoded].filter((d) => d === 1).length, peakGrowthMB }));
