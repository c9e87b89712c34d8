// The Node benches' statistics: the median, and a 95% bootstrap interval of the median (seeded:
// the same data prints the same interval).
export const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];

export function bootstrap(xs) {
  let seed = 0x9e3779b9;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const meds = [];
  for (let b = 0; b < 4000; b++) meds.push(median(xs.map(() => xs[Math.floor(rnd() * xs.length)])));
  meds.sort((x, y) => x - y);
  return [meds[Math.floor(0.025 * meds.length)], meds[Math.floor(0.975 * meds.length)]];
}
