#!/usr/bin/env bash
# Writes link/startup-symbols.txt: the functions of runner's executable that a run of the
# tutorial executes (in runner and in a worker), for the linker to place side by side.
#
# Why: runner is a short-lived process, and on a virtual machine each page of code a process
# touches first is a page fault of a few microseconds, in runner and again in every worker (fork
# does not copy the page tables of file mappings). The functions a run executes are otherwise
# spread over many of the executable's 64 KiB blocks (the kernel maps 64 KiB around a fault);
# side by side they fill few. Measured with the static executable (glibc's functions are in the
# list too): the tutorial's whole process 263 page faults without the list, 232 with it.
#
# build.rs hands the file to the linker (`--symbol-ordering-file`, lld's; rust-lld is the default
# linker of x86_64-unknown-linux-gnu since Rust 1.90). A stale list costs nothing but the gain:
# names no longer in the executable are skipped. Rust names are written with `17h*E` in place of
# their hash and with the function's size (runner's hashes depend on the checkout's directory);
# link/cc-order resolves them when linking, so the list works in any checkout. Regenerate it after
# a change of toolchain or dependencies, when the hot path moves, and before a benchmark run that
# is checked in: a list written one commit earlier (a change to the multi-host coordinator only)
# cost the tutorial about 8% of its wall time in a whole-process A/B, and the list regenerated at
# that commit brought it back to parity:
#
#   scripts/symbol-order.sh
#
# Needs valgrind (callgrind counts every function executed, forked workers included).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "symbol-order.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }

cargo build --release --locked --bin runner
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# The tutorial as it runs (workers started as forked), from a barrier, and as JSON.
for args in "jobs/increment.yaml" "--start together jobs/increment.yaml" "--format json jobs/increment.yaml"; do
    # shellcheck disable=SC2086 # the arguments are words
    valgrind --tool=callgrind --trace-children=yes --demangle=no --compress-strings=no \
        --callgrind-out-file="$out/cg.%p" target/release/runner $args >/dev/null 2>"$out/valgrind.log"
done
# The tutorial again, with the counts zeroed at each fork: a worker's file then holds only what
# it executes after its fork, which goes first, side by side (a worker faults in every 64 KiB
# block of code it touches, as runner does, but only the few it touches).
mkdir "$out/workers"
valgrind --tool=callgrind --trace-children=yes --demangle=no --compress-strings=no --zero-before=_Fork \
    --callgrind-out-file="$out/workers/cg.%p" target/release/runner jobs/increment.yaml >/dev/null 2>"$out/valgrind.log"
python3 - "$out" <<'EOF'
import glob, os, re, subprocess, sys

def functions(path, own_cost_only):
    """The executable's functions in a callgrind file, in its order; with `own_cost_only`,
    only those with a cost of their own (not a caller's frame only charged for its calls)."""
    obj, name, after_calls, found = None, None, False, []
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("ob="):
            obj = line[3:].strip()
        elif line.startswith("fn="):
            name = None
            if obj is not None and obj.endswith("/runner"):
                # `'2`: callgrind's mark of a recursion level, not part of the name.
                name = re.sub(r"'[0-9]+$", "", line[3:].strip())
                if name.startswith("0x") or name.startswith("("):
                    name = None
                elif not own_cost_only:
                    found.append(name)
        elif line.startswith("calls="):
            after_calls = True
            continue
        elif own_cost_only and name is not None and (line[:1].isdigit() or line[:1] in "+-*"):
            if not after_calls:
                found.append(name)
        after_calls = False
    return found

def portable(names, executable):
    """Each Rust name with `17h*E` in place of its hash (`17h` and 16 hex digits, then `E`),
    followed by the function's size: the hash of runner's functions, and of generic functions
    instantiated in runner, depends on the checkout's directory (cargo's metadata), the stem and
    size do not. link/cc-order resolves them to the names in the objects it links. Other names
    (C's, glibc's) as they are."""
    sizes = {}
    nm = subprocess.run(["nm", "-S", "--defined-only", executable], capture_output=True, text=True, check=True)
    for line in nm.stdout.splitlines():
        f = line.split()
        if len(f) == 4:
            sizes[f[3]] = int(f[1], 16)
    lines = []
    for name in names:
        if re.search(r"17h[0-9a-f]{16}E$", name):
            stem = name[:-20] + "17h*E"
            lines.append(f"{stem} {sizes[name]}" if name in sizes else stem)
        else:
            lines.append(name)
    seen = set()
    return [line for line in lines if not (line in seen or seen.add(line))]

out = sys.argv[1]
workers = []
for path in sorted(glob.glob(os.path.join(out, "workers", "cg.*"))):
    # A worker's file, not runner's: only a child leaves through `exec::fork::leave`.
    if any("4exec4fork5leave" in n for n in functions(path, False)):
        workers += functions(path, True)
runner = []
for path in sorted(glob.glob(os.path.join(out, "cg.*"))):
    runner += functions(path, False)
seen, order = set(), []
for name in workers + runner:
    # valgrind's CPU has no AVX-512: glibc picks a string function's AVX2 variant under it, and
    # its EVEX or AVX-512 one natively. They go side by side.
    variants = [name]
    if "_avx2_" in name:
        variants += [name.replace("_avx2_", v) for v in ("_evex_", "_avx512_")]
    for v in variants:
        if v not in seen:
            seen.add(v)
            order.append(v)
os.makedirs("link", exist_ok=True)
with open("link/startup-symbols.txt", "w") as f:
    f.write("\n".join(portable(order, "target/release/runner")) + "\n")
print(f"link/startup-symbols.txt: {len(order)} functions, the {len(set(workers))} a worker runs first")
EOF
