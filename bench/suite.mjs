// The convolution suite, the same in Node and in the browser: every convkit runner and every peer
// on each shape, outputs checked against convkit's JS backend, timings summarized against the best
// single-thread peer, the SIMD peak and the targets.
import { TARGETS, usefulMacs } from './shapes.mjs';
import { maxRelDiff, median, randomTensor, timeCall, timeInterleaved } from './timing.mjs';

export const TOLERANCE = 1e-3;

/** A runner's call: `op(x, w, opts)`, or `op(x, opts)` for a shape without a weight (pooling). */
const call = (lib, extra) => (shape, x, w) => lib[shape.op](x, ...(w ? [w] : []), { ...shape.opts, ...extra });

/** Why the relaxed-SIMD instance cannot run, or undefined when it loaded. */
function relaxedMissing(relaxed, engineFlag) {
  const loaded = relaxed.backendInfo().relaxedSimd;
  if (loaded === true) return undefined;
  if (engineFlag) return engineFlag;
  if (loaded === undefined) return 'this convkit build has no relaxed SIMD binary (backendInfo().relaxedSimd is undefined)';
  return 'init() did not load the relaxed SIMD binary (backendInfo().relaxedSimd is false)';
}

/**
 * convkit's runners from separately loaded module instances (`relaxed` from a plain init(), `simd`
 * with `{ relaxed: false }`, `scalar` with `{ simd: false }`) and pools of 2 workers and of one, both
 * created from `simd`. `engineFlag` names a missing engine switch that keeps relaxed SIMD off, if any.
 */
export function convkitRunners({ relaxed, simd, scalar, pool, onePool }, engineFlag) {
  return [
    { name: 'wasm-simd', run: call(simd, {}) },
    { name: 'wasm-relaxed', run: call(relaxed, {}), missing: relaxedMissing(relaxed, engineFlag) },
    { name: 'wasm', run: call(scalar, {}) },
    { name: 'js', run: call(simd, { backend: 'js' }) },
    { name: 'pool(1)', run: call(onePool, {}) },
    { name: 'pool(2)', run: call(pool, {}) },
  ];
}

/** Why `got` is not convkit JS backend's answer within the tolerance, or undefined when it is. */
function disagreement(got, reference) {
  const diff = maxRelDiff(got, reference);
  return diff < TOLERANCE ? undefined : `disagrees with convkit's JS backend (max relative difference ${diff})`;
}

const target = (ratio, bar) => ({ target: bar, ratio, met: ratio === undefined ? undefined : ratio >= bar });

/** Best single-thread peer, the ratios against it, the pool's speedups and the targets: the
 * shape's `target` for convkit's best single-thread wasm build (relaxed where it loaded, else
 * SIMD128) over the best single-thread peer, its `poolTarget` for 2 workers over one (pool(2) over
 * pool(1), the measure), and JS over tfjs-cpu. `poolVsThread` is pool(2) over wasm-SIMD in
 * the calling thread, which also counts the pool's messaging and copies. */
function summarize(row, peers, shape) {
  const single = peers.filter((p) => p.threads === 1 && row.peers[p.name].gflops);
  const best = single.reduce((b, p) => (!b || row.peers[p.name].gflops > row.peers[b.name].gflops ? p : b), undefined);
  const bestGflops = best && row.peers[best.name].gflops;
  const vsBest = (name) => (best && row.results[name].gflops ? row.results[name].gflops / bestGflops : undefined);
  const tfjsCpu = row.peers['tfjs-cpu']?.gflops;
  const simdVsPeer = vsBest('wasm-simd');
  const relaxedVsPeer = vsBest('wasm-relaxed');
  const convkitVsPeer = Math.max(simdVsPeer ?? 0, relaxedVsPeer ?? 0) || undefined;
  const poolSpeedup = row.results['pool(1)'].ms / row.results['pool(2)'].ms;
  const poolVsThread = row.results['wasm-simd'].ms / row.results['pool(2)'].ms;
  const jsVsTfjsCpu = tfjsCpu ? row.results.js.gflops / tfjsCpu : undefined;
  return {
    bestPeer: best?.name,
    bestPeerGflops: bestGflops,
    simdVsPeer,
    relaxedVsPeer,
    poolSpeedup,
    poolVsThread,
    // The shapes have targets; the variants none.
    targets: shape.target
      ? {
          wasmVsBestPeer: target(convkitVsPeer, shape.target),
          ...(shape.poolTarget && { poolSpeedup: target(poolSpeedup, shape.poolTarget) }),
          jsVsTfjsCpu: target(jsVsTfjsCpu, TARGETS.jsVsTfjsCpu),
        }
      : {},
  };
}

/** What a results file says about its run, before the rows (Node and the browser alike). */
export function runHeader({ environment, convkit, quick, runs, peak, runners, peers }) {
  return {
    date: new Date().toISOString(),
    environment,
    convkit,
    quick,
    ...runs,
    tolerance: TOLERANCE,
    peak,
    targets: TARGETS,
    runners: runners.map((r) => r.name),
    peers: peers.map((p) => ({ name: p.name, threads: p.threads })),
  };
}

/** A convkit runner opened like a peer (see peers.mjs): its output, and a step timing one call. */
async function openRunner(run, shape, x, w) {
  const output = (await run(shape, x, w)).data;
  return { output, step: () => timeCall(() => run(shape, x, w)), close() {} };
}

/**
 * One row per shape: `results` (convkit runners) and `peers`, each `{ ms, times, retaken, contended,
 * gflops, ofPeak }` or `{ na: reason }`, and a `summary`. Every runner and peer is timed in the same
 * rounds (timeInterleaved), behind the quiet-host `gate` if given. A convkit runner whose output
 * differs throws; a peer whose output differs is reported not available, with the difference.
 */
export async function runConvSuite({ shapes, runs, runners, peers, peakGflops, gate, log = () => {} }) {
  const timing = (macs, { times, retaken, contended }) => {
    const ms = median(times);
    const gflops = (2 * macs) / (ms * 1e6);
    return { ms, times, retaken, contended, gflops, ofPeak: gflops / peakGflops };
  };
  const rows = [];
  for (const shape of shapes) {
    const x = randomTensor(shape.x, 1);
    const w = shape.w && randomTensor(shape.w, 2);
    const reference = await runners.find((r) => r.name === 'js').run(shape, x, w);
    const macs = usefulMacs(shape, reference.shape);
    const row = { shape: shape.name, op: shape.op, x: shape.x, w: shape.w, opts: shape.opts, macs, results: {}, peers: {} };
    const timed = [];
    try {
      for (const { name, run, missing } of runners) {
        if (missing) row.results[name] = { na: missing };
        else timed.push({ entries: row.results, name, session: await openRunner(run, shape, x, w) });
      }
      for (const { name, session } of timed) {
        const wrong = disagreement(session.output, reference.data);
        if (wrong) throw new Error(`${name} ${wrong} on ${shape.name}`);
      }
      // A peer that cannot run a layer, or gets it wrong, is not timed on it; the reason is reported.
      for (const peer of peers) {
        let session;
        try {
          session = await peer.open(shape, x, w, reference.shape);
          const wrong = disagreement(session.output, reference.data);
          if (wrong) throw new Error(wrong);
          timed.push({ entries: row.peers, name: peer.name, session });
        } catch (e) {
          await session?.close();
          row.peers[peer.name] = { na: String(e?.message ?? e) };
        }
      }
      const times = await timeInterleaved(timed.map((t) => t.session.step), runs.reps, runs.warmUpMs, gate);
      timed.forEach(({ entries, name }, i) => (entries[name] = timing(macs, times[i])));
    } finally {
      for (const { session } of timed) await session.close();
    }
    // Runners and peers in their listed order, whichever were measured.
    row.results = order(row.results, runners);
    row.peers = order(row.peers, peers);
    row.summary = summarize(row, peers, shape);
    rows.push(row);
    log(`measured ${shape.name}`);
  }
  return rows;
}

const order = (entries, listed) => Object.fromEntries(listed.map(({ name }) => [name, entries[name]]));
