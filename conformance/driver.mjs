// Runs conformance cases on workerd through Miniflare.
// Usage: node driver.mjs < cases.json > results.json
// Input: {"cases": [{"id": ..., "steps": [...]}, ...]}; output: {"workerd": version, "results": {id: [...]}}.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { Miniflare } from "miniflare";

const here = dirname(fileURLToPath(import.meta.url));
const input = JSON.parse(readFileSync(0, "utf8"));

const mf = new Miniflare({
  modules: true,
  scriptPath: join(here, "worker.mjs"),
  // The newest date this workerd knows, so behaviour behind compatibility flags is today's.
  compatibilityDate: input.compatibilityDate,
  durableObjects: {
    LAB: { className: "LabObject", useSQLite: true },
    OTHER: { className: "OtherObject", useSQLite: true },
  },
  // No persistence option: Miniflare keeps storage in a temporary folder for this run only
  // (in-memory storage would have no SQLite).
});

try {
  await mf.ready;
  const results = {};
  const queue = [...input.cases];
  // Cases are independent (each has its own object), so a few run at once; alarm cases spend
  // most of their time waiting.
  async function worker() {
    while (queue.length) {
      const c = queue.shift();
      const response = await mf.dispatchFetch("http://conformance/run", {
        method: "POST",
        body: JSON.stringify(c),
      });
      const text = await response.text();
      if (response.status !== 200) {
        results[c.id] = { crashed: `HTTP ${response.status}: ${text.slice(0, 500)}` };
      } else {
        results[c.id] = JSON.parse(text).results;
      }
    }
  }
  await Promise.all(Array.from({ length: input.parallel || 4 }, worker));
  process.stdout.write(JSON.stringify({ results }));
} finally {
  await mf.dispose();
}
