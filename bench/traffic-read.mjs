// The reader side of bench/traffic.ts, as its own process so that its time and peak RSS are its
// own: reads a transfer log with the built src/traffic (dist/) and prints the profile as JSON.
// node bench/traffic-read.mjs <dist/traffic/index.js> <log> <zone>
const [lib, file, zone] = process.argv.slice(2);
const { readTrafficProfile } = await import(lib);
const p = await readTrafficProfile([file], { zone });
const u = process.resourceUsage();
console.log(
  JSON.stringify({
    records: p.records,
    skipped: p.skipped.count,
    slots: p.slots.map((s) => [s.transfers, s.bytes, s.accounts]),
    cpuSeconds: (u.userCPUTime + u.systemCPUTime) / 1e6,
    maxRssMB: u.maxRSS / 1024,
  }),
);
