#!/usr/bin/env python3
"""Fault soak: runner under faults, many times, with random timing. Run by hand (it takes a few
minutes), not by CI:

    cargo build --release && scripts/fault-soak.py [--recoveries 100] [--interrupts 50] [--kills 20]
        [--close-signals 50] [--tmp-check 20] [--runner PATH]

1. Recoveries: mutex jobs in which a worker kills itself inside the lock at a random operation
   (a declared fault). Each must complete (exit 0 with `expect_outcome: recovered`), report the
   death and the recovery, and end at the value of the operations actually applied.
2. Interrupts: long runs on every backend, SIGINT at a random moment. Each must exit 130 within
   1 s of the signal, leave no worker alive, and print one JSON document with `partial: true`.
3. Kills: the same, but SIGKILL to runner itself: no worker may survive it.
4. Close signals: three patterns, each run --close-signals times in JSON and in human mode, on a
   3-worker job (every backend in turn) at a random moment of its run, with `--trace` and
   `--export-json` into a directory of its own: a storm of 20 SIGINTs 0.5 ms apart; SIGINT then
   SIGTERM at once; two signals (of SIGINT, SIGTERM, SIGHUP, SIGQUIT) 0-5 ms apart (a random
   gap). Each must print its partial report (JSON: one document that parses, with
   `partial: true`), exit with the code of a signal it was sent (a code of none of them fails),
   leave none of its workers alive (runner's children, by pid) and no `.tmp` file beside the
   trace or the export. The exits with the first signal's code are counted apart, not failed:
   two different signals pending at once are handed over lowest number first, so the first
   read may be the second sent when they land within microseconds.
5. Temporary files (--tmp-check N, 0 to skip): N runs each of SIGINT, SIGTERM, SIGHUP, SIGQUIT
   and two close signals, with the same checks (the issue's "no .tmp file" count).

Prints one line per failure and a summary; exits 1 if anything failed.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "target", "release", "runner")
BACKENDS = ["mutex", "atomic", "channel", "none"]


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def write_job(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def recoveries(n, directory, failures):
    times = []
    for i in range(n):
        iterations = random.randint(1000, 200000)
        at = random.randint(0, iterations - 1)
        victim = random.randint(0, 2)
        text = (
            f"workers: 3\niterations: {iterations}\nvalue: {{type: i}}\noperation: add\nbackend: mutex\n"
            f"faults:\n  - {{worker: {victim}, at: {at}, action: kill, inside_lock: true}}\n"
            "expect_outcome: recovered\ntimeout: 60s\n"
        )
        path = write_job(directory, f"recover-{i}.yaml", text)
        started = time.monotonic()
        try:
            out = subprocess.run([RUNNER, path, "--format", "json"], capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            failures.append(f"recovery {i}: hung (at {at} of {iterations}, worker {victim})")
            continue
        times.append(time.monotonic() - started)
        try:
            report = json.loads(out.stdout)
        except json.JSONDecodeError:
            failures.append(f"recovery {i}: no JSON report (exit {out.returncode}): {out.stderr[-300:]!r}")
            continue
        expected = 2 * iterations + at
        problems = []
        if out.returncode != 0:
            problems.append(f"exit {out.returncode}")
        if (report.get("recovery") or {}).get("died_holding_lock") != victim:
            problems.append(f"recovery {report.get('recovery')}")
        if report["workers"][victim]["exit"]["signal"] != "SIGKILL":
            problems.append(f"victim exit {report['workers'][victim]['exit']}")
        if report["final"] != expected:
            problems.append(f"final {report['final']} != {expected}")
        if report["verdict"] != "correct":
            problems.append(f"verdict {report['verdict']}")
        if problems:
            failures.append(f"recovery {i} (at {at} of {iterations}, worker {victim}): " + "; ".join(problems))
    return times


def interrupted(n, directory, failures, signal_name):
    reactions = []
    for i in range(n):
        backend = BACKENDS[i % len(BACKENDS)]
        text = f"workers: 3\niterations: 100000000000\nvalue: {{type: i}}\noperation: add\nbackend: {backend}\n"
        path = write_job(directory, f"interrupt-{i}.yaml", text)
        child = subprocess.Popen([RUNNER, path, "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # The workers (and for channel the owner's waker) appear, then a random moment passes.
        deadline = time.monotonic() + 10
        while len(children(child.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        workers = children(child.pid)
        time.sleep(random.uniform(0.0, 0.5))
        workers = sorted(set(workers + children(child.pid)))
        sent = time.monotonic()
        os.kill(child.pid, {"INT": 2, "KILL": 9}[signal_name])
        try:
            stdout, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            failures.append(f"SIG{signal_name} {i} ({backend}): runner did not end")
            continue
        took = time.monotonic() - sent
        reactions.append(took)
        # Workers die with runner (PR_SET_PDEATHSIG) or are reaped by it: give the kernel a moment.
        end = time.monotonic() + 2
        while any(alive(p) for p in workers) and time.monotonic() < end:
            time.sleep(0.01)
        survivors = [p for p in workers if alive(p)]
        problems = []
        if survivors:
            problems.append(f"workers alive: {survivors}")
        if signal_name == "INT":
            if took > 1.0:
                problems.append(f"took {took:.3f} s")
            if child.returncode != 130:
                problems.append(f"exit {child.returncode}")
            try:
                report = json.loads(stdout)
                if report.get("partial") is not True:
                    problems.append("partial is not true")
            except json.JSONDecodeError:
                problems.append(f"stdout is not one JSON document: {stdout[:200]!r}")
        if problems:
            failures.append(f"SIG{signal_name} {i} ({backend}): " + "; ".join(problems))
    return reactions


SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "TERM": 15}


def leftovers(directory):
    """The `.tmp` files (hidden or not) left in `directory`."""
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def send(pid, pattern):
    """Sends `pattern`'s signals to `pid`; returns their names, in the order sent."""
    if pattern == "storm":
        sent = ["INT"] * 20
        for _ in sent:
            os.kill(pid, signal.SIGINT)
            time.sleep(0.0005)
    elif pattern == "int-term":
        sent = ["INT", "TERM"]
        os.kill(pid, signal.SIGINT)
        os.kill(pid, signal.SIGTERM)
    elif pattern == "two-apart":
        sent = random.sample(sorted(SIGNALS), 2)
        os.kill(pid, SIGNALS[sent[0]])
        time.sleep(random.uniform(0.0, 0.005))
        os.kill(pid, SIGNALS[sent[1]])
    else:
        sent = [pattern]
        os.kill(pid, SIGNALS[pattern])
    return sent


def close_signals(n, directory, failures, pattern, fmt):
    """Counts of runs, reports printed, reports that parse, exits with the first signal's code,
    exits with another sent signal's code, runs with a worker left alive, runs with a .tmp left."""
    counts = {"runs": 0, "printed": 0, "parsed": 0, "first_code": 0, "other_code": 0, "orphans": 0, "tmp": 0}
    for i in range(n):
        backend = BACKENDS[i % len(BACKENDS)]
        text = f"workers: 3\niterations: 100000000000\nvalue: {{type: i}}\noperation: add\nbackend: {backend}\n"
        path = write_job(directory, f"close-{pattern}-{fmt}-{i}.yaml", text)
        out = tempfile.mkdtemp(prefix=f"out-{pattern}-{fmt}-{i}-", dir=directory)
        command = [RUNNER, path, "--format", fmt, "--trace", os.path.join(out, "trace.json")]
        command += ["--export-json", os.path.join(out, "export.json")]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while len(children(child.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        workers = children(child.pid)
        time.sleep(random.uniform(0.0, 0.2))
        workers = sorted(set(workers + children(child.pid)))
        sent = send(child.pid, pattern)
        try:
            stdout, stderr = child.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            failures.append(f"{pattern} {fmt} {i} ({backend}): runner did not end")
            continue
        counts["runs"] += 1
        problems = []
        codes = {128 + SIGNALS[s] for s in sent}
        if child.returncode not in codes:
            problems.append(f"exit {child.returncode}, not one of {sorted(codes)}")
        elif child.returncode == 128 + SIGNALS[sent[0]]:
            counts["first_code"] += 1
        else:
            counts["other_code"] += 1
        # Workers die with runner (PR_SET_PDEATHSIG) or are reaped by it: give the kernel a moment.
        end = time.monotonic() + 2
        while any(alive(p) for p in workers) and time.monotonic() < end:
            time.sleep(0.01)
        survivors = [p for p in workers if alive(p)]
        if survivors:
            counts["orphans"] += 1
            problems.append(f"alive after runner: {survivors}")
        tmp = leftovers(out)
        if tmp:
            counts["tmp"] += 1
            problems.append(f".tmp left: {tmp}")
        text = stdout.decode(errors="replace")
        if fmt == "json":
            if stdout.strip():
                counts["printed"] += 1
            try:
                report = json.loads(stdout)
                counts["parsed"] += 1
                if report.get("partial") is not True:
                    problems.append("partial is not true")
            except json.JSONDecodeError:
                problems.append(f"stdout is not one JSON document: {stdout[:200]!r}")
        elif "interrupted by SIG" in text:
            counts["printed"] += 1
            counts["parsed"] += 1
        else:
            problems.append(f"no report: {text[:200]!r}")
        if problems:
            failures.append(f"{pattern} {fmt} {i} ({backend}, {'+'.join(sent[:2])}): " + "; ".join(problems))
    return counts


def main():
    global RUNNER
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recoveries", type=int, default=100)
    parser.add_argument("--interrupts", type=int, default=50)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--close-signals", type=int, default=50)
    parser.add_argument("--tmp-check", type=int, default=20, help="runs per single signal and of two close ones")
    parser.add_argument("--runner", default=None, help="the runner binary (default: the release build)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    RUNNER = args.runner or RUNNER
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    random.seed(seed)
    if not os.access(RUNNER, os.X_OK):
        sys.exit(f"{RUNNER} not found: run `cargo build --release` first")
    failures = []
    with tempfile.TemporaryDirectory(prefix="runner-soak-") as directory:
        rec = recoveries(args.recoveries, directory, failures)
        ints = interrupted(args.interrupts, directory, failures, "INT")
        kills = interrupted(args.kills, directory, failures, "KILL")
        close = {
            (pattern, fmt): close_signals(args.close_signals, directory, failures, pattern, fmt)
            for pattern in ("storm", "int-term", "two-apart")
            for fmt in ("json", "human")
        }
        tmp = {
            pattern: close_signals(args.tmp_check, directory, failures, pattern, "json")
            for pattern in ("INT", "TERM", "HUP", "QUIT", "two-apart")
        }
    for f in failures:
        print("FAIL", f)

    def span(xs):
        return f"median {sorted(xs)[len(xs) // 2] * 1e3:.1f} ms, max {max(xs) * 1e3:.1f} ms" if xs else "-"

    print(f"seed {seed}")
    print(f"recoveries: {len(rec)} runs completed ({span(rec)} each)")
    print(f"SIGINT: {len(ints)} runs, reaction {span(ints)}")
    print(f"SIGKILL to runner: {len(kills)} runs")
    def line(name, c):
        print(
            f"{name}: {c['runs']} runs, {c['printed']} reports printed, {c['parsed']} parseable, "
            f"{c['first_code']} exits with the first signal's code, {c['other_code']} with another sent one's, "
            f"{c['orphans']} with a worker left alive, {c['tmp']} with a .tmp left"
        )

    for (pattern, fmt), c in close.items():
        line(f"{pattern} ({fmt})", c)
    for pattern, c in tmp.items():
        line(f"{pattern if pattern == 'two-apart' else 'SIG' + pattern} (json, .tmp check)", c)
    print(f"{len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
