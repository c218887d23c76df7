# SPDX-License-Identifier: MIT
"""Command line: python3 -m coriogen IN.c -o OUT.c [options].

Exit status: 0 done, 1 the input has errors (or --check found stale
output), 2 internal error or bad usage.  Never a traceback.
"""

import argparse
import os
import sys
import tempfile
import threading

from . import parse
from .analyze import analyze
from .diagnostics import CodegenError
from .emit import generate_c, generate_h, report


def build_parser():
    p = argparse.ArgumentParser(
        prog="coriogen",
        description="Turn C with async/await into corio state machines.")
    p.add_argument("input", help="the async/await C source")
    p.add_argument("-o", "--output", help="generated .c (default: stdout)")
    p.add_argument("--header", help="also write start prototypes here")
    p.add_argument("-I", dest="includes", action="append", default=[],
                   metavar="DIR", help="include directory, as for cc")
    p.add_argument("-D", dest="defines", action="append", default=[],
                   metavar="NAME[=VALUE]", help="macro, as for cc")
    p.add_argument("--clang-arg", dest="clang_args", action="append",
                   default=[], metavar="ARG",
                   help="extra argument passed to libclang")
    p.add_argument("--check", action="store_true",
                   help="regenerate and compare with the existing outputs; "
                   "exit 1 when they differ")
    p.add_argument("--report", action="store_true",
                   help="print each async function's frame size and resume "
                   "points")
    p.add_argument("--no-line", action="store_true",
                   help="omit #line directives")
    p.add_argument("--depfile", metavar="PATH",
                   help="write a make-style dependency file listing every "
                   "header the input includes (for build systems)")
    return p


def run(args, stdout, stderr):
    if parse.ci is None:
        stderr.write("error: cannot import clang.cindex (%s); run coriogen "
                     "with an interpreter that has Debian's python3-clang-14, "
                     "e.g. /usr/bin/python3\n" % parse.IMPORT_ERROR)
        return 2
    tu, source = parse.parse(args.input, args.includes, args.defines,
                             args.clang_args)
    program = analyze(tu, source)
    out_name = args.output or "<stdout>"
    c_text = generate_c(program, out_name, not args.no_line)
    outputs = [(args.output, c_text)]
    if args.header:
        outputs.append((args.header, generate_h(program, args.header)))
    if args.report:
        stdout.write(report(program))
    if args.check:
        stale = [path for path, text in outputs
                 if path is None or read_text(path) != text]
        for path in stale:
            stderr.write("%s: error: out of date with %s; regenerate it\n"
                         % (path or "<stdout>", args.input))
        return 1 if stale else 0
    if args.depfile:
        outputs.append((args.depfile, depfile_text(tu, args, outputs)))
    for path, text in outputs:
        if path is None:
            if not args.report:
                stdout.write(text)
        else:
            write_atomically(path, text)
    return 0


def depfile_text(tu, args, outputs):
    """`OUT: IN HEADERS...`: a header that changes a frame (an array size
    macro, a typedef) must regenerate the output.  OUT is spelled as -o
    gave it: make matches targets by their spelling, so a Makefile rule
    for `x.gen.c` needs `x.gen.c:` here (CMake passes absolute paths)."""
    deps = [os.path.abspath(args.input)]
    for inclusion in tu.get_includes():
        name = os.path.abspath(inclusion.include.name)
        if name not in deps:
            deps.append(name)
    target = outputs[0][0] or "-"
    return "%s: %s\n" % (escape_make(target), " \\\n  ".join(
        escape_make(d) for d in deps))


def escape_make(path):
    return path.replace(" ", "\\ ").replace("#", "\\#")


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as fh:
            return fh.read()
    except OSError:
        return None


def write_atomically(path, text):
    """Never leave a half-written file for the build to pick up."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".coriogen-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8",
                       errors="surrogateescape") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# Syntax trees nest as deep as the code does: a chain of 3,000 `else if`
# or a sum of 3,000 terms is thousands of recursive visits.  Python's
# default limit would break inside libclang's callbacks, where errors are
# swallowed, so run on a thread with a large stack and a high limit.
RECURSION_LIMIT = 200000
STACK_BYTES = 512 * 1024 * 1024


def main(argv=None, stdout=None, stderr=None):
    result = []
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    old_stack = threading.stack_size(STACK_BYTES)
    try:
        worker = threading.Thread(target=lambda: result.append(
            main_here(argv, stdout, stderr)), daemon=True)
        worker.start()
        worker.join()
    except KeyboardInterrupt:   # delivered to this thread, not the worker
        (stderr or sys.stderr).write("error: interrupted\n")
        return 2
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    return result[0] if result else 2


def main_here(argv=None, stdout=None, stderr=None):
    """main() on the calling thread."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    saved_out, saved_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr     # argparse prints there
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:       # argparse already printed the usage
        return 2 if exc.code else 0
    finally:
        sys.stdout, sys.stderr = saved_out, saved_err
    try:
        return run(args, stdout, stderr)
    except CodegenError as exc:
        for diag in exc.diagnostics:
            stderr.write(diag.format() + "\n")
        return 1
    except KeyboardInterrupt:
        stderr.write("error: interrupted\n")
        return 2
    except Exception as exc:        # a bug in coriogen, not in the input
        stderr.write("error: internal: %s: %s (while processing %s)\n"
                     % (type(exc).__name__, exc, args.input))
        return 2
