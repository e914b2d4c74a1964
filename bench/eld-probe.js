// Preloaded into the benchmarked app (node -r): measures event-loop delay inside the server
// process and reports it over the IPC channel on request. Not used outside the benchmark.
const { monitorEventLoopDelay } = require('node:perf_hooks');
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
if (process.send) {
  process.on('message', (m) => {
    if (m === 'eld:reset') h.reset();
    // A normal exit, so that --cpu-prof (BENCH_NODE_ARGS) can write its profile.
    if (m === 'exit') process.exit(0);
    if (m === 'cpu:read') process.send({ cpu: process.cpuUsage() });
    if (m === 'eld:read') {
      process.send({ eld: { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 } });
    }
  });
  process.channel?.unref();
}
