// The reference for the no-op pipeline (scripts/compare.sh): graphile-worker
// drains JOBS no-op jobs from PostgreSQL with CONCURRENCY at once, in one
// process. Adding the jobs is not timed; the drain is, from the worker's start
// to the last job's completion. Prints one line: `graphile-worker: N jobs in
// S s, R jobs/s`.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/somedb node bench.mjs [JOBS] [CONCURRENCY]
import { Logger, makeWorkerUtils, run, runMigrations } from "graphile-worker";

const connectionString = process.env.DATABASE_URL;
const jobs = Number(process.argv[2] ?? 20000);
const concurrency = Number(process.argv[3] ?? 10);
if (!connectionString) {
  console.error("DATABASE_URL is required");
  process.exit(2);
}

const quiet = () => () => {};
const logger = new Logger(quiet);

await runMigrations({ connectionString, logger });
const utils = await makeWorkerUtils({ connectionString, logger });
await utils.withPgClient((client) =>
  client.query(
    "SELECT graphile_worker.add_job('noop', json_build_object('i', i)) FROM generate_series(1, $1) i",
    [jobs],
  ),
);
await utils.release();

let done = 0;
let finish;
const drained = new Promise((resolve) => (finish = resolve));
const started = process.hrtime.bigint();
const runner = await run({
  connectionString,
  concurrency,
  noHandleSignals: true,
  pollInterval: 1000,
  logger,
  taskList: { noop: async () => {} },
});
runner.events.on("job:complete", () => {
  done += 1;
  if (done === jobs) finish();
});
await drained;
const secs = Number(process.hrtime.bigint() - started) / 1e9;
await runner.stop();
console.log(`graphile-worker: ${jobs} jobs in ${secs.toFixed(2)} s, ${(jobs / secs).toFixed(0)} jobs/s`);
