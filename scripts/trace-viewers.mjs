#!/usr/bin/env node
// Opens the trace of every job of the catalog, with and without --trace-ops, in speedscope's own
// import code, run under Node: the check, by hand, that a viewer installed from a registry opens
// what runner writes (Perfetto cannot be fetched here; tests/trace.rs checks the Trace Event
// Format's rules in the suite).
//
// Setup (nothing of it is committed; the package goes to /tmp):
//   mkdir -p /tmp/speedscope && echo '{"private":true}' > /tmp/speedscope/package.json
//   npm install --prefix /tmp/speedscope speedscope
// Run from the repository (after `cargo build --release`, or give the binary):
//   node scripts/trace-viewers.mjs [--runner target/release/runner] [--jobs jobs]
//        [--speedscope /tmp/speedscope] [--out /tmp/runner-traces]
//
// speedscope's npm package ships its app as one bundle, whose importers are not exported: the
// script finds the function the app calls with a dropped file's text (importProfileGroupFromText
// behind a lazy module), makes it reachable, and runs the bundle in a context of its own with
// just enough of a browser for the bundle to get that far (its rendering then stops, which is
// expected). A trace opens when the import returns profiles without throwing and speedscope
// warned nothing (its warnings, such as "Tried to end ...", are how it says that slices did not
// nest). Exit status: 0 when every trace opened, 1 otherwise.

import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : fallback;
};
const runner = option('--runner', fs.existsSync('target/release/runner') ? 'target/release/runner' : 'target/debug/runner');
const jobsDir = option('--jobs', 'jobs');
const speedscope = option('--speedscope', '/tmp/speedscope');
const out = option('--out', '/tmp/runner-traces');

/** speedscope's text importer, from its bundle, and the warnings it gives while importing. */
function loadSpeedscope() {
  const dir = path.join(speedscope, 'node_modules/speedscope/dist/release');
  const bundle = fs.readdirSync(dir).find((f) => /^speedscope-.*\.js$/.test(f));
  if (!bundle) throw new Error(`no speedscope bundle in ${dir}: npm install --prefix ${speedscope} speedscope`);
  let src = fs.readFileSync(path.join(dir, bundle), 'utf8');
  const found = src.match(/async function (\w+)\((\w),(\w)\)\{return\(await (\w+)\)\.importProfileGroupFromText\(\2,\3\)\}/);
  if (!found) throw new Error(`${bundle}: importProfileGroupFromText not found (another speedscope version?)`);
  src = src.replace(found[0], `${found[0]}globalThis.__importFromText=${found[1]};`);
  const warnings = [];
  const quiet = { log() {}, info() {}, debug() {}, warn: (...a) => warnings.push(a.join(' ')), error: (...a) => warnings.push(a.join(' ')) };
  const stub = () =>
    new Proxy(function () {}, {
      get: (_, key) => (key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : stub()),
      apply: () => stub(),
      construct: () => stub(),
    });
  const context = {
    console: quiet, setTimeout, clearTimeout, TextDecoder, TextEncoder, URL, Promise,
    location: { hash: '', search: '', href: 'http://localhost/', protocol: 'http:' },
    navigator: { userAgent: 'node', platform: 'linux' },
    document: stub(),
    addEventListener() {}, removeEventListener() {},
    localStorage: { getItem: () => null, setItem() {} },
    requestAnimationFrame: () => 0,
    matchMedia: () => ({ matches: false, addEventListener() {}, addListener() {} }),
  };
  context.globalThis = context.window = context.self = context;
  vm.createContext(context);
  try {
    vm.runInContext(src, context);
  } catch {
    // The app's rendering needs a real browser: the importer is defined before it.
  }
  if (typeof context.__importFromText !== 'function') throw new Error('speedscope importer not reached');
  const version = JSON.parse(fs.readFileSync(path.join(speedscope, 'node_modules/speedscope/package.json'), 'utf8')).version;
  return { importText: context.__importFromText, warnings, version };
}

async function open(viewer, file) {
  viewer.warnings.length = 0;
  const text = fs.readFileSync(file, 'utf8');
  try {
    const group = await viewer.importText(path.basename(file), text);
    if (!group || group.profiles.length === 0) return { ok: false, error: 'no profile imported' };
    const warned = [...viewer.warnings];
    const events = JSON.parse(text).traceEvents.length;
    if (warned.length > 0) return { ok: false, error: `${warned.length} warnings, first: ${warned[0].slice(0, 160)}` };
    return { ok: true, profiles: group.profiles.length, events };
  } catch (e) {
    return { ok: false, error: String(e).slice(0, 200) };
  }
}

const viewer = loadSpeedscope();
console.log(`speedscope ${viewer.version} (its importer under Node ${process.version}); runner: ${runner}`);
fs.mkdirSync(out, { recursive: true });
let failed = 0;
let opened = 0;
for (const job of fs.readdirSync(jobsDir).filter((f) => f.endsWith('.yaml')).sort()) {
  for (const ops of [false, true]) {
    const name = `${path.basename(job, '.yaml')}${ops ? '.ops' : ''}`;
    for (const f of fs.readdirSync(out).filter((f) => f.startsWith(`${name}.`))) fs.rmSync(path.join(out, f));
    const trace = path.join(out, `${name}.json`);
    const run = spawnSync(runner, [path.join(jobsDir, job), '-q', '--trace', trace, ...(ops ? ['--trace-ops'] : [])], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    // A trace per cell for a sweep (`NAME.cell.json`), else the one file.
    const files = fs.readdirSync(out).filter((f) => f === `${name}.json` || (f.startsWith(`${name}.`) && !f.startsWith(`${name}.ops.`) && f.endsWith('.json'))).sort();
    const label = `${job}${ops ? ' --trace-ops' : ''}`;
    if (files.length === 0) {
      // A job whose run never started (a fork that fails, as `fault-fork` expects) has no
      // trace; runner's exit status says whether that was the job's expected outcome.
      const why = (run.stderr || '').trim().split('\n').pop().slice(0, 160);
      if (run.status === 0) {
        console.log(`none ${label}: no run, no trace (runner exit 0: ${why})`);
      } else {
        failed += 1;
        console.log(`FAIL ${label}: no trace written (runner exit ${run.status}: ${why})`);
      }
      continue;
    }
    const results = [];
    for (const f of files) results.push([f, await open(viewer, path.join(out, f))]);
    const bad = results.filter(([, r]) => !r.ok);
    const events = results.reduce((n, [, r]) => n + (r.events || 0), 0);
    opened += results.length - bad.length;
    if (bad.length === 0) {
      console.log(`ok   ${label}: ${results.length} trace${results.length > 1 ? 's' : ''} opened, ${events} events (runner exit ${run.status})`);
    } else {
      failed += bad.length;
      for (const [f, r] of bad) console.log(`FAIL ${label}: ${f}: ${r.error}`);
    }
  }
}
console.log(`${opened} traces opened without error, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
