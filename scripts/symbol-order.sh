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
# names no longer in the executable are skipped. Regenerate it after a change of toolchain or
# dependencies, or when the hot path moves:
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
python3 - "$out" <<'EOF'
import glob, os, sys
seen, order = set(), []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "cg.*"))):
    obj = None
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("ob="):
            obj = line[3:].strip()
        elif line.startswith("fn=") and obj is not None and obj.endswith("/runner"):
            name = line[3:].strip()
            if not name.startswith("0x") and name not in seen:
                seen.add(name)
                order.append(name)
os.makedirs("link", exist_ok=True)
with open("link/startup-symbols.txt", "w") as f:
    f.write("\n".join(order) + "\n")
print(f"link/startup-symbols.txt: {len(order)} functions")
EOF
