/** One slice of a run's time: rows finished in it, 429 answers counted in it, the lowest pace allowed. */
export interface TimelineBucket {
  readonly rows: number;
  readonly rateLimited: number;
  /** Requests per second allowed; undefined when nothing was sampled in the slice (the pace held). */
  readonly pace?: number | undefined;
}

/** The run's time cut into equal slices, the first starting when the collector was made. */
export interface Timeline {
  readonly bucketMs: number;
  readonly buckets: readonly TimelineBucket[];
}

/** What the run tells about its pace as each row is counted (see RunOptions.onPace). */
export interface PaceSample {
  readonly rate: number;
  /** 429 answers since the run began: the collector keeps the difference. */
  readonly rateLimitedAnswers: number;
}

/** Most slices a collector holds; at the limit neighbours merge, so memory stays flat however long the run. */
const TIMELINE_MAX_BUCKETS = 240;
/** Most bars the chart draws: a longer timeline is merged down to this before drawing. */
export const TIMELINE_MAX_BARS = 120;

// The lowest pace wins a merge: a drop after 429s is what the chart is there to show.
const lowest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

const mergeTwo = (a: TimelineBucket, b: TimelineBucket | undefined): TimelineBucket =>
  b === undefined
    ? a
    : { rows: a.rows + b.rows, rateLimited: a.rateLimited + b.rateLimited, pace: lowest(a.pace, b.pace) };

/** Merges each pair of neighbouring slices: half as many, twice as long. */
const halve = ({ bucketMs, buckets }: Timeline): Timeline => {
  const merged: TimelineBucket[] = [];
  for (let index = 0; index < buckets.length; index += 2) merged.push(mergeTwo(buckets[index]!, buckets[index + 1]));
  return { bucketMs: bucketMs * 2, buckets: merged };
};

/** Merges pairs of neighbouring slices (doubling their length) until at most `maxBuckets` are left. */
export function mergeBuckets(timeline: Timeline, maxBuckets: number): Timeline {
  let merged = timeline;
  while (merged.buckets.length > Math.max(1, maxBuckets)) merged = halve(merged);
  return merged;
}

/**
 * Counts finished rows and 429 answers per slice of time, and the pace allowed, for the report's
 * timeline. Slices start at one second and double in length whenever a run outgrows `maxBuckets`.
 * A 429 is counted in the slice of the next finished row (the run tells the count as rows finish).
 */
export class TimelineCollector {
  readonly #now: () => number;
  readonly #started: number;
  readonly #maxBuckets: number;
  #bucketMs = 1000;
  #buckets: TimelineBucket[] = [];
  #rateLimitedSeen = 0;

  constructor(now: () => number = Date.now, maxBuckets: number = TIMELINE_MAX_BUCKETS) {
    this.#now = now;
    this.#started = now();
    this.#maxBuckets = maxBuckets;
  }

  /** Adds to the slice of now, making the slices longer first when now lies past the last one. */
  #change(update: (bucket: TimelineBucket) => TimelineBucket): void {
    const elapsed = Math.max(0, this.#now() - this.#started);
    while (Math.floor(elapsed / this.#bucketMs) >= this.#maxBuckets) {
      const halved = halve({ bucketMs: this.#bucketMs, buckets: this.#buckets });
      this.#bucketMs = halved.bucketMs;
      this.#buckets = [...halved.buckets];
    }
    const index = Math.floor(elapsed / this.#bucketMs);
    while (this.#buckets.length <= index) this.#buckets.push({ rows: 0, rateLimited: 0 });
    this.#buckets[index] = update(this.#buckets[index]!);
  }

  /** A row finished now. */
  readonly rowFinished = (): void => {
    this.#change((bucket) => ({ ...bucket, rows: bucket.rows + 1 }));
  };

  /** The pace allowed now, and the 429 answers so far. */
  readonly paced = (sample: PaceSample): void => {
    const fresh = Math.max(0, sample.rateLimitedAnswers - this.#rateLimitedSeen);
    this.#rateLimitedSeen = Math.max(this.#rateLimitedSeen, sample.rateLimitedAnswers);
    this.#change((bucket) => ({
      rows: bucket.rows,
      rateLimited: bucket.rateLimited + fresh,
      pace: lowest(bucket.pace, sample.rate),
    }));
  };

  get timeline(): Timeline {
    return { bucketMs: this.#bucketMs, buckets: this.#buckets };
  }
}

const round = (value: number): number => Math.round(value * 100) / 100;

/**
 * The timeline as an inline SVG chart: finished rows per slice as blue bars, 429 answers as red
 * bars (class `rate-limited`) on the same scale, the pace allowed as a green line on its own scale
 * (right). Labels are numbers only. At most TIMELINE_MAX_BARS bars.
 */
export function timelineSvg(timeline: Timeline): string {
  const title = 'Throughput and pace over time';
  const { bucketMs, buckets } = mergeBuckets(timeline, TIMELINE_MAX_BARS);
  if (buckets.length === 0) return `<p class="none">${title}: no row finished</p>`;
  const left = 48;
  const plotWidth = 600;
  const right = 64;
  const top = 12;
  const plotHeight = 160;
  const bottom = 36;
  const width = left + plotWidth + right;
  const height = top + plotHeight + bottom;
  const slot = plotWidth / buckets.length;
  const largest = Math.max(1, ...buckets.map((bucket) => Math.max(bucket.rows, bucket.rateLimited)));
  // A slice without a sample kept the pace of the slice before.
  let pace: number | undefined;
  const paces = buckets.map((bucket) => (pace = bucket.pace ?? pace));
  const fastest = Math.max(0, ...paces.map((value) => value ?? 0));
  const yOf = (value: number, scale: number): number => round(top + plotHeight - (value / scale) * plotHeight);
  const bars = buckets.map((bucket, index) => {
    const x = left + index * slot;
    const seconds = round((index * bucketMs) / 1000);
    const rows =
      bucket.rows > 0
        ? `<rect class="rows" x="${round(x + slot * 0.1)}" y="${yOf(bucket.rows, largest)}" ` +
          `width="${round(slot * 0.5)}" height="${round((bucket.rows / largest) * plotHeight)}">` +
          `<title>${seconds} s: ${bucket.rows} rows</title></rect>`
        : '';
    const limited =
      bucket.rateLimited > 0
        ? `<rect class="rate-limited" x="${round(x + slot * 0.6)}" y="${yOf(bucket.rateLimited, largest)}" ` +
          `width="${round(Math.max(1, slot * 0.3))}" height="${round(Math.max(2, (bucket.rateLimited / largest) * plotHeight))}">` +
          `<title>${seconds} s: ${bucket.rateLimited} answered 429</title></rect>`
        : '';
    return rows + limited;
  });
  // A step per slice, not a point: a one-slice run still shows its pace.
  const points = paces.flatMap((value, index) =>
    value === undefined || fastest === 0
      ? []
      : [
          `${round(left + index * slot)},${yOf(value, fastest)}`,
          `${round(left + (index + 1) * slot)},${yOf(value, fastest)}`,
        ],
  );
  const line = points.length > 0 ? `<polyline class="pace" points="${points.join(' ')}"></polyline>` : '';
  const seconds = round((buckets.length * bucketMs) / 1000);
  const axisY = top + plotHeight;
  const labels =
    `<text x="${left - 6}" y="${top + 10}" text-anchor="end">${largest}</text>` +
    `<text x="${left - 6}" y="${axisY}" text-anchor="end">0</text>` +
    `<text x="${left + plotWidth + 6}" y="${top + 10}">${round(fastest)}/s</text>` +
    `<text x="${left}" y="${axisY + 16}">0 s</text>` +
    `<text x="${left + plotWidth}" y="${axisY + 16}" text-anchor="end">${seconds} s</text>` +
    `<text x="${left}" y="${axisY + 32}">per ${round(bucketMs / 1000)} s: rows finished (blue), ` +
    `answered 429 (red); pace allowed, requests/s (green line, right scale)</text>`;
  return (
    `<svg role="img" aria-label="${title}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `xmlns="http://www.w3.org/2000/svg"><title>${title}</title>` +
    `<line class="axis" x1="${left}" y1="${axisY}" x2="${left + plotWidth}" y2="${axisY}"></line>` +
    `${bars.join('')}${line}${labels}</svg>`
  );
}
