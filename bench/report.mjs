// The benchmark's output: tables on stdout and a self-contained HTML report (CSS bars, no network).

const fixed = (v, digits) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const cell = (r) => (r.na ? 'n/a' : `${fixed(r.ms, 2)} (${fixed(r.gflops, 2)})`);
const percent = (v) => (v === undefined ? 'n/a' : `${(100 * v).toFixed(0)}%`);
const ratio = (v) => (v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
const verdict = (t) => (t === undefined ? '-' : t.met === undefined ? 'n/a' : `${ratio(t.ratio)} ${t.met ? 'met' : 'not met'} (>= ${t.target}x)`);

function table(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((t) => t[i].length)));
  const line = (cells) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

/** Every row's entries, convkit's runners first, then the peers. */
const entries = (results, row) => [
  ...results.runners.map((name) => [name, row.results[name]]),
  ...results.peers.map(({ name }) => [name, row.peers[name]]),
];

export function printTables(results) {
  const { peak, rows, targets } = results;
  const names = [...results.runners, ...results.peers.map((p) => p.name)];
  console.log(`convkit ${results.convkit}, median of ${results.reps} runs after ${results.warmUpMs} ms of warm-up each, ${results.environment}`);
  console.log(`wasm SIMD128 peak (f32x4 mul+add): ${fixed(peak.gflops, 1)} GFLOP/s (${peak.byAccumulators.map((b) => `${b.accumulators} acc ${fixed(b.gflops, 1)}`).join(', ')})`);
  console.log('\nlayers, median ms (GFLOP/s; pooling counts a comparison or an add per window tap as a multiply-add); convkit first, then the peers (ort(n) = onnxruntime-web with n threads):');
  console.log(table(['shape', 'MMACs', ...names], rows.map((r) => [r.shape, fixed(r.macs / 1e6, 1), ...entries(results, r).map(([, e]) => cell(e))])));
  const timed = rows.flatMap((r) => entries(results, r).flatMap(([, e]) => (e?.times ? [e] : [])));
  const count = (key) => timed.reduce((n, e) => n + (e[key] ?? 0), 0);
  const kept = timed.reduce((n, e) => n + e.times.length, 0);
  console.log(`quiet-host gate (bench/quiet.mjs): ${count('retaken')} calls retaken while a core was lent out; ${count('contended')} of the ${kept} kept still contended`);

  console.log(`\nagainst the best single-thread peer and the peak; targets (issue 5): convkit's best wasm build >= the shape's ratio x the best peer, pool(2) >= 1.7x pool(1) (S1, S5, S8, S10), js >= ${targets.jsVsTfjsCpu}x tfjs-cpu:`);
  const header = ['shape', 'best peer (GFLOP/s)', 'simd/peer', 'relaxed/peer', 'simd of peak', 'peer of peak', 'pool(2)/pool(1)', 'pool(2)/thread', 'target wasm', 'target pool', 'target js'];
  const body = rows.map((r) => {
    const s = r.summary;
    const peer = s.bestPeer ? r.peers[s.bestPeer] : undefined;
    return [
      r.shape,
      s.bestPeer ? `${s.bestPeer} (${fixed(s.bestPeerGflops, 2)})` : 'n/a',
      ratio(s.simdVsPeer),
      ratio(s.relaxedVsPeer),
      percent(r.results['wasm-simd'].ofPeak),
      percent(peer?.ofPeak),
      ratio(s.poolSpeedup),
      ratio(s.poolVsThread),
      verdict(s.targets.wasmVsBestPeer),
      verdict(s.targets.poolSpeedup),
      verdict(s.targets.jsVsTfjsCpu),
    ];
  });
  console.log(table(header, body));
  // Each reason once, with the layers it applies to.
  const missing = new Map();
  for (const r of rows) {
    for (const [name, e] of entries(results, r).filter(([, e]) => e.na)) {
      const key = `${name}: ${e.na}`;
      missing.set(key, [...(missing.get(key) ?? []), r.shape.split(' ')[0]]);
    }
  }
  if (missing.size) console.log(`\nn/a:\n${[...missing].map(([key, layers]) => `  ${layers.join(',')} ${key}`).join('\n')}`);

  const { images, denormals } = results;
  if (!images) return;
  const imageRunners = Object.keys(images[0]?.results ?? {});
  console.log(`\nimage filters on ${results.imageSize.join('x')} RGBA (rgb filtered, alpha copied), ms (Mpixel/s):`);
  console.log(table(['filter', ...imageRunners], images.map((r) => [r.filter, ...imageRunners.map((n) => `${fixed(r.results[n].ms, 1)} (${fixed(r.results[n].mpixels, 1)})`)])));
  console.log(`\ndenormal inputs, conv2d x [${results.denormalShape.x}] w [${results.denormalShape.w}] (ms normal -> denormal):`);
  for (const d of denormals) console.log(`  ${d.backend} ${d.algorithm}: ${fixed(d.normalMs, 2)} -> ${fixed(d.denormalMs, 2)} (${fixed(d.ratio, 2)}x)`);
}

const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** One shape's bars: GFLOP/s of every runner and peer on a scale that ends at the SIMD peak (or the fastest, if above). */
function shapeChart(results, row) {
  const list = entries(results, row);
  const scale = Math.max(results.peak.gflops, ...list.map(([, e]) => e.gflops ?? 0));
  const bars = list
    .map(([name, e]) => {
      const peer = results.peers.some((p) => p.name === name);
      const width = e.gflops ? (100 * e.gflops) / scale : 0;
      const label = e.na ? `n/a: ${escape(e.na)}` : `${fixed(e.gflops, 2)} GFLOP/s, ${fixed(e.ms, 2)} ms, ${percent(e.ofPeak)} of peak`;
      return `<div class="bar"><span class="name">${escape(name)}</span><span class="track"><span class="fill ${peer ? 'peer' : 'ours'}" style="width:${width.toFixed(2)}%"></span></span><span class="value">${label}</span></div>`;
    })
    .join('\n');
  const peakAt = ((100 * results.peak.gflops) / scale).toFixed(2);
  const s = row.summary;
  return `<section><h2>${escape(row.shape)}</h2>
<p>${escape(row.op)} x [${row.x}]${row.w ? ` w [${row.w}]` : ''} ${escape(JSON.stringify(row.opts))}, ${fixed(row.macs / 1e6, 1)} MMACs.
Best single-thread peer: ${escape(s.bestPeer ?? 'n/a')} (${fixed(s.bestPeerGflops, 2)} GFLOP/s); wasm-simd/peer ${ratio(s.simdVsPeer)}, relaxed/peer ${ratio(s.relaxedVsPeer)}, pool(2) ${ratio(s.poolSpeedup)} over pool(1) and ${ratio(s.poolVsThread)} over one wasm-simd thread.
${s.targets.wasmVsBestPeer ? `Targets: best wasm build ${verdict(s.targets.wasmVsBestPeer)}, pool ${verdict(s.targets.poolSpeedup)}, js ${verdict(s.targets.jsVsTfjsCpu)} tfjs-cpu.` : 'A variant: no targets.'}</p>
<div class="chart" style="--peak:${peakAt}%">${bars}</div></section>`;
}

/** The comparison table of the printed report, as HTML. */
function summaryTable(results) {
  const head = ['layer', 'best single-thread peer', 'wasm-simd/peer', 'relaxed/peer', 'wasm-simd of peak', 'pool(2)/pool(1)', 'pool(2)/thread', `best wasm build / peer target`, 'pool(2) target', `js >= ${results.targets.jsVsTfjsCpu}x tfjs-cpu`];
  const rows = results.rows.map((r) => {
    const s = r.summary;
    const cells = [r.shape, s.bestPeer ? `${s.bestPeer} (${fixed(s.bestPeerGflops, 2)} GFLOP/s)` : 'n/a', ratio(s.simdVsPeer), ratio(s.relaxedVsPeer), percent(r.results['wasm-simd'].ofPeak), ratio(s.poolSpeedup), ratio(s.poolVsThread), verdict(s.targets.wasmVsBestPeer), verdict(s.targets.poolSpeedup), verdict(s.targets.jsVsTfjsCpu)];
    return `<tr>${cells.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`;
  });
  return `<table><tr>${head.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>\n${rows.join('\n')}</table>`;
}

export function htmlReport(results) {
  const { peak } = results;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>convkit benchmark</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 70em; color: #222; }
h2 { font-size: 1.05em; margin: 1.6em 0 0.3em; }
.chart { position: relative; }
.bar { display: grid; grid-template-columns: 8em 1fr 24em; align-items: center; gap: 0.6em; margin: 2px 0; }
.track { position: relative; height: 1em; background: #eee; }
.track::after { content: ''; position: absolute; left: var(--peak); top: -2px; bottom: -2px; border-left: 2px dashed #c00; }
.fill { display: block; height: 100%; }
.ours { background: #2a7ab0; } .peer { background: #999; }
.value { font-size: 0.9em; color: #444; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
</style></head><body>
<h1>convkit benchmark</h1>
<p>${escape(results.date)}, convkit ${escape(results.convkit)}, ${escape(results.environment)}${results.quick ? ', quick run' : ''}; median of ${results.reps} runs after ${results.warmUpMs} ms of warm-up each; outputs checked against convkit's JS backend (max relative difference ${results.tolerance}).</p>
<p>wasm SIMD128 peak (f32x4 mul+add, dashed red line): <b>${fixed(peak.gflops, 1)} GFLOP/s</b> (${peak.byAccumulators.map((b) => `${b.accumulators} accumulators ${fixed(b.gflops, 1)}`).join(', ')}). Blue: convkit; grey: peers.</p>
${summaryTable(results)}
${results.rows.map((row) => shapeChart(results, row)).join('\n')}
</body></html>
`;
}
