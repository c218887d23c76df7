# SPDX-License-Identifier: MIT
"""Frame sizes of corio's own async/await sources, this generator against
another checkout of it (coriogen --report of both, function by function).

    /usr/bin/python3 frame_sizes.py OLD_CODEGEN_DIR [--list]

OLD_CODEGEN_DIR is the codegen/ directory of the other version (with its
include/ next to it), e.g. from
`git archive REV codegen include | tar -x -C /tmp/old`.  The sources are
codegen/examples, the test cases, run programs and golden input, and
tests/*.c that CMake builds through coriogen (AWAIT).  Prints median and
p90 before -> after, and every function that grew.
"""

import argparse
import glob
import os
import re
import subprocess
import sys

import support

REPORT_RE = re.compile(r"^(\w+): frame (\d+) bytes", re.M)


def sources():
    tests = support.TESTS
    names = sorted(glob.glob(os.path.join(support.CODEGEN, "examples",
                                          "*.c")))
    for sub in ("cases", "run", "golden"):
        names += sorted(n for n in glob.glob(os.path.join(tests, sub, "*.c"))
                        if not n.endswith(".gen.c"))
    with open(os.path.join(support.REPO, "tests", "CMakeLists.txt")) as fh:
        cmake = fh.read()
    for name in sorted(re.findall(r"corio_add_test\((\w+)\s+AWAIT", cmake)):
        names.append(os.path.join(support.REPO, "tests", name + ".c"))
    return names


def sizes(codegen_dir, path):
    """{function: frame bytes} from --report of the generator in
    @codegen_dir, or None when it rejects @path."""
    proc = subprocess.run(
        ["/usr/bin/python3", "-m", "coriogen", path, "-o", os.devnull,
         "--report", "-I", os.path.dirname(path)],
        cwd=codegen_dir, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=codegen_dir))
    if proc.returncode != 0:
        return None
    return {m.group(1): int(m.group(2))
            for m in REPORT_RE.finditer(proc.stdout)}


def percentile(values, p):
    """Nearest-rank percentile of sorted @values."""
    rank = max(1, -(-len(values) * p // 100))
    return values[int(rank) - 1]


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("--list", action="store_true",
                   help="print every function's sizes")
    args = p.parse_args(argv)
    before, after, grew = [], [], []
    for path in sources():
        old = sizes(os.path.abspath(args.old), path)
        new = sizes(support.CODEGEN, path)
        rel = os.path.relpath(path, support.REPO)
        if old is None or new is None:
            print("%s: skipped (rejected by the %s generator)"
                  % (rel, "old" if old is None else "new"))
            continue
        for fn in sorted(set(old) & set(new)):
            before.append(old[fn])
            after.append(new[fn])
            if args.list:
                print("%s %s: %d -> %d" % (rel, fn, old[fn], new[fn]))
            if new[fn] > old[fn]:
                grew.append("%s %s: %d -> %d" % (rel, fn, old[fn], new[fn]))
    before.sort()
    after.sort()
    print("%d functions" % len(before))
    for name, pct in (("median", 50), ("p90", 90)):
        b, a = percentile(before, pct), percentile(after, pct)
        print("%s: %d -> %d bytes (%.1f%% smaller)"
              % (name, b, a, 100.0 * (b - a) / b))
    print("total: %d -> %d bytes" % (sum(before), sum(after)))
    for line in grew:
        print("grew: " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
