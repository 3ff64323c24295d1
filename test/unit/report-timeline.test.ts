import { describe, expect, it } from 'vitest';
import {
  mergeBuckets,
  TimelineCollector,
  timelineSvg,
  TIMELINE_MAX_BARS,
  type TimelineBucket,
} from '../../src/output/report-timeline.js';

/** A clock the test moves by hand. */
const clock = (): { now: () => number; at: (ms: number) => void } => {
  let time = 1_000_000;
  const start = time;
  return { now: () => time, at: (ms) => (time = start + ms) };
};

const rectsOf = (svg: string, kind: string): Array<{ y: number; height: number }> =>
  [...svg.matchAll(new RegExp(`<rect class="${kind}" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)"`, 'g'))].map(
    (match) => ({ y: Number(match[1]), height: Number(match[2]) }),
  );

describe('TimelineCollector', () => {
  it('counts rows, fresh 429s and the lowest pace per second', () => {
    const time = clock();
    const timeline = new TimelineCollector(time.now);
    time.at(200);
    timeline.rowFinished();
    timeline.paced({ rate: 10, rateLimitedAnswers: 0 });
    time.at(1500);
    timeline.rowFinished();
    timeline.paced({ rate: 10, rateLimitedAnswers: 3 });
    timeline.rowFinished();
    timeline.paced({ rate: 4, rateLimitedAnswers: 5 });
    time.at(3100);
    timeline.rowFinished();
    timeline.paced({ rate: 6, rateLimitedAnswers: 5 });
    expect(timeline.timeline).toEqual({
      bucketMs: 1000,
      buckets: [
        { rows: 1, rateLimited: 0, pace: 10 },
        { rows: 2, rateLimited: 5, pace: 4 },
        { rows: 0, rateLimited: 0 },
        { rows: 1, rateLimited: 0, pace: 6 },
      ],
    });
  });

  it('merges neighbouring slices when the run outgrows the limit, keeping every count', () => {
    const time = clock();
    const timeline = new TimelineCollector(time.now, 8);
    for (let second = 0; second < 40; second++) {
      time.at(second * 1000);
      timeline.rowFinished();
      timeline.paced({ rate: 50 - second, rateLimitedAnswers: second });
    }
    const { bucketMs, buckets } = timeline.timeline;
    expect(bucketMs).toBe(8000);
    expect(buckets).toHaveLength(5);
    expect(buckets.reduce((sum, bucket) => sum + bucket.rows, 0)).toBe(40);
    expect(buckets.reduce((sum, bucket) => sum + bucket.rateLimited, 0)).toBe(39);
    expect(buckets[0]).toEqual({ rows: 8, rateLimited: 7, pace: 43 });
  });
});

describe('mergeBuckets', () => {
  it('halves until at most the limit is left, an odd last slice alone', () => {
    const buckets: TimelineBucket[] = [1, 2, 3, 4, 5].map((rows) => ({ rows, rateLimited: rows % 2, pace: 10 - rows }));
    expect(mergeBuckets({ bucketMs: 1000, buckets }, 3)).toEqual({
      bucketMs: 2000,
      buckets: [
        { rows: 3, rateLimited: 1, pace: 8 },
        { rows: 7, rateLimited: 1, pace: 6 },
        { rows: 5, rateLimited: 1, pace: 5 },
      ],
    });
    expect(mergeBuckets({ bucketMs: 1000, buckets }, 5).buckets).toBe(buckets);
  });
});

describe('timelineSvg', () => {
  it('scales the bars to the largest count, marks 429s in red and draws the pace as a line', () => {
    const svg = timelineSvg({
      bucketMs: 1000,
      buckets: [
        { rows: 4, rateLimited: 0, pace: 10 },
        { rows: 8, rateLimited: 2, pace: 5 },
        { rows: 0, rateLimited: 0 },
        { rows: 2, rateLimited: 0, pace: 10 },
      ],
    });
    expect(svg).toMatch(/^<svg role="img" aria-label="Throughput and pace over time"/);
    expect(rectsOf(svg, 'rows').map((rect) => rect.height)).toEqual([80, 160, 40]);
    expect(rectsOf(svg, 'rate-limited')).toEqual([{ y: 132, height: 40 }]);
    expect(svg).toContain('1 s: 2 answered 429');
    // The third slice kept the pace before it; the line is a step per slice.
    expect(svg.match(/<polyline class="pace" points="([^"]+)"/)?.[1]?.split(' ')).toEqual([
      '48,12',
      '198,12',
      '198,92',
      '348,92',
      '348,92',
      '498,92',
      '498,12',
      '648,12',
    ]);
    expect(svg).toContain('>10/s</text>');
    expect(svg).toContain('>4 s</text>');
  });

  it('draws at most the bar limit, merging slices for a long run', () => {
    const buckets = Array.from({ length: 500 }, () => ({ rows: 1, rateLimited: 0, pace: 2 }));
    const svg = timelineSvg({ bucketMs: 1000, buckets });
    expect(rectsOf(svg, 'rows').length).toBeLessThanOrEqual(TIMELINE_MAX_BARS);
    expect(svg).toContain('per 8 s');
    expect(svg).toContain('>504 s</text>');
  });

  it('says so when no row finished', () => {
    expect(timelineSvg({ bucketMs: 1000, buckets: [] })).toBe(
      '<p class="none">Throughput and pace over time: no row finished</p>',
    );
  });
});
