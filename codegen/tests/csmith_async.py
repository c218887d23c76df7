# SPDX-License-Identifier: MIT
"""Csmith programs, made async, against their plain build.

A Csmith program (random C, free of undefined behaviour, printing a
checksum of its globals) becomes an async/await input: every function but
main is declared async, every call of one is awaited, and each function
starts with `await corio_yield();` so every call really suspends.  main
runs func_1 as a task on a corio loop.  The coriogen build must print the
plain build's checksum.

    /usr/bin/python3 csmith_async.py FIRST COUNT [--no-consts] [--keep DIR]
        [--cc gcc] [--jobs 2]

prints one line per seed and a summary (seeds whose plain build does not
finish in time are not transformable and are left out).  The quick set in
test_csmith.py uses the same functions.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import support
from coriogen import declarator, parse

CSMITH_INCLUDE = "/usr/include/csmith"
RUN_TIMEOUT = 10
# Warnings of a plain build that the generated build may add: the frame
# keeps what was a local, so nothing here is about code coriogen wrote.
WARNING_RE = re.compile(r"\[(-W[a-z0-9-]+(?:=[a-z0-9]+)?)\]")


def available():
    return shutil.which("csmith") is not None and \
        os.path.isdir(CSMITH_INCLUDE)


def generate(seed, consts, path):
    args = ["csmith", "--seed", str(seed), "-o", path]
    if not consts:
        args.append("--no-consts")
    subprocess.run(args, check=True, capture_output=True, timeout=60)


def make_async(path, out_path):
    """Write the async/await version of Csmith program @path."""
    tu, src = parse.parse(path, [CSMITH_INCLUDE], [])
    ci = parse.ci
    CK = ci.CursorKind
    edits = []          # (offset, text), insertions only
    names = set()
    decls = []
    for cursor in tu.cursor.get_children():
        if cursor.kind == CK.FUNCTION_DECL and \
                parse.in_main_file(cursor, src) and cursor.spelling != "main":
            names.add(cursor.spelling)
            decls.append(cursor)
    first = None
    for cursor in decls:
        start = cursor.extent.start.offset
        text = src.slice(start, start + 7)
        edits.append((start + 7 if text == "static " else start, "async "))
        if cursor.spelling == "func_1":
            first = cursor
        if cursor.is_definition():
            body = next(c for c in cursor.get_children()
                        if c.kind == CK.COMPOUND_STMT)
            edits.append((body.extent.start.offset + 1,
                          " await corio_yield();"))
    main = next(c for c in tu.cursor.get_children()
                if c.kind == CK.FUNCTION_DECL and c.spelling == "main" and
                c.is_definition())

    def visit(node, in_main):
        if node.kind == CK.CALL_EXPR and parse.callee_name(node) in names:
            start = node.extent.start.offset
            if in_main:
                end = node.extent.end.offset
                edits.append((start, "csmith_run_func_1()/*"))
                edits.append((end, "*/"))
            else:
                edits.append((start, "await "))
        for child in node.get_children():
            visit(child, in_main)
    for cursor in decls:
        if cursor.is_definition():
            visit(cursor, False)
    visit(main, True)
    rtype = first.result_type
    void = declarator.is_void(rtype)
    runner = RUNNER % {
        "result": "int result" if void else declarator.declare(rtype,
                                                               "result"),
        "slot": "" if void else ", &result",
        "slot_param": "" if void else ", " + declarator.result_slot(
            rtype, "corio_result")}
    edits.append((main.extent.start.offset, runner))
    text = src.data
    for offset, insert in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:offset] + insert.encode() + text[offset:]
    text = text.replace(b'#include "csmith.h"',
                        b"#include \"csmith.h\"\n#include <stdlib.h>\n#include <corio/await.h>", 1)
    with open(out_path, "wb") as fh:
        fh.write(text)


RUNNER = """static struct corio_frame *func_1__start(struct corio_frame *corio_parent%(slot_param)s);

/* func_1 as a task on a corio loop, run to completion. */
static void csmith_run_func_1(void)
{
	struct corio_loop *loop;
	struct corio_task *task;
	%(result)s;
	int status = 0;

	if (corio_loop_create(&loop, NULL) < 0)
		exit(77);
	if (corio_spawn(loop, func_1__start(NULL%(slot)s), &task) < 0 ||
	    corio_loop_run(loop) < 0 || corio_task_reap(task, &status) < 0 ||
	    status != 0)
		exit(3);
	(void)result;
	corio_loop_destroy(loop);
}

"""


def warnings_of(log):
    return set(WARNING_RE.findall(log))


def compile_program(cc, sources, exe, extra=()):
    cmd = [cc, "-std=gnu11", "-O1", "-Wall", "-Wextra", "-I" + CSMITH_INCLUDE,
           "-I" + support.INCLUDE, "-I" + support.MACROS] + list(extra) + \
        list(sources) + ["-o", exe]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode == 0, " ".join(cmd) + "\n" + proc.stderr


def run(exe):
    try:
        proc = subprocess.run([exe], capture_output=True, text=True,
                              timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return None
    return proc.returncode, proc.stdout


class Outcome:
    """What happened to one seed: .status is "ok", "skip" (the plain
    build does not finish: not transformable) or "fail" (.detail says
    why); .report is coriogen's --report."""

    def __init__(self, seed, status, detail="", report=""):
        self.seed = seed
        self.status = status
        self.detail = detail
        self.report = report


def check_seed(seed, consts=True, cc="gcc", keep=None):
    tmp = tempfile.mkdtemp(prefix="coriogen-csmith-")
    try:
        return _check_seed(seed, consts, cc, tmp)
    finally:
        if keep:
            dest = os.path.join(keep, "%s%d" % ("" if consts else "nc",
                                                seed))
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(tmp, dest)
        shutil.rmtree(tmp, ignore_errors=True)


def _check_seed(seed, consts, cc, tmp):
    plain = os.path.join(tmp, "plain.c")
    generate(seed, consts, plain)
    plain_exe = os.path.join(tmp, "plain")
    ok, plain_log = compile_program(cc, [plain], plain_exe)
    if not ok:
        return Outcome(seed, "skip", "plain build fails")
    want = run(plain_exe)
    if want is None or want[0] != 0:
        return Outcome(seed, "skip", "plain build does not finish")
    source = os.path.join(tmp, "async.c")
    make_async(plain, source)
    gen = os.path.join(tmp, "async.gen.c")
    status, report, err = support.run_coriogen(
        [source, "-o", gen, "-I", CSMITH_INCLUDE, "--report"])
    if status != 0:
        return Outcome(seed, "fail", "coriogen: " + err.strip()[:2000])
    exe = os.path.join(tmp, "async")
    lib = support.libcorio()
    ok, log = compile_program(cc, [gen, lib] + support.runtime_libs(), exe)
    if not ok:
        return Outcome(seed, "fail", "compile: " + log[-3000:], report)
    added = warnings_of(log) - warnings_of(plain_log)
    if added:
        return Outcome(seed, "fail", "warnings the input lacks: %s\n%s"
                       % (" ".join(sorted(added)), log[-3000:]), report)
    got = run(exe)
    if got is None:
        return Outcome(seed, "fail", "timeout", report)
    if got[0] == support.SKIP_EXIT:
        return Outcome(seed, "skip", "io_uring unavailable")
    if got != want:
        return Outcome(seed, "fail", "WRONG RESULT: %r != %r" % (got, want),
                       report)
    return Outcome(seed, "ok", "", report)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("first", type=int)
    p.add_argument("count", type=int)
    p.add_argument("--no-consts", action="store_true")
    p.add_argument("--cc", default="gcc")
    p.add_argument("--keep", help="keep each seed's files under this dir")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--report", help="append coriogen --report lines here")
    args = p.parse_args(argv)
    if not available():
        print("csmith or libcsmith-dev is not installed")
        return 2
    if support.libcorio() is None:
        print(support.missing_runtime_reason())
        return 2
    seeds = range(args.first, args.first + args.count)
    counts = {"ok": 0, "skip": 0, "fail": 0}
    reports = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for out in pool.map(lambda s: check_seed(s, not args.no_consts,
                                                  args.cc, args.keep), seeds):
            counts[out.status] += 1
            reports.append(out.report)
            print("seed %d: %s %s" % (out.seed, out.status,
                                      out.detail.splitlines()[0]
                                      if out.detail else ""), flush=True)
    if args.report:
        with open(args.report, "a") as fh:
            fh.write("".join(reports))
    done = counts["ok"] + counts["fail"]
    print("%d of %d transformable programs agree (%d not transformable)"
          % (counts["ok"], done, counts["skip"]))
    return 0 if counts["fail"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
