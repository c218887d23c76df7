# SPDX-License-Identifier: MIT
"""Shared helpers for the coriogen tests: running the tool in-process,
finding compilers and the built runtime, compiling and running programs."""

import atexit
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time

TESTS = os.path.dirname(os.path.abspath(__file__))
CODEGEN = os.path.dirname(TESTS)
REPO = os.path.dirname(CODEGEN)
INCLUDE = os.path.join(REPO, "include")
MACROS = os.path.join(REPO, "macros")
HARNESS = os.path.join(TESTS, "harness")

sys.path.insert(0, CODEGEN)

from coriogen import cli  # noqa: E402

WARNINGS = ["-Wall", "-Wextra", "-Werror"]
# The project's own set (cmake/CorioWarnings.cmake): generated code must be
# clean under it, since CMake builds generated sources with it.
PROJECT_WARNINGS = ["-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes",
                    "-Wpointer-arith", "-Wcast-align", "-Wwrite-strings",
                    "-Wformat=2", "-Wvla", "-Wundef"]
# CORIO_TEST_SANITIZE: the -fsanitize= list for compile-and-run tests
# ("none" for none); it must match how libcorio was built when that was
# with a sanitizer that cannot mix with others (thread).
_SANITIZERS = os.environ.get("CORIO_TEST_SANITIZE") or "address,undefined"
SANITIZE = [] if _SANITIZERS == "none" else [
    "-fsanitize=" + _SANITIZERS, "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer"]
# CORIO_LIB_SANITIZE: the sanitizers libcorio.a itself was built with (the
# project's CORIO_SANITIZE); every program linking it needs their runtime,
# even one compiled without instrumentation of its own.
_LIB_SANITIZERS = os.environ.get("CORIO_LIB_SANITIZE", "")
LIB_SANITIZE = ["-fsanitize=" + _LIB_SANITIZERS] if _LIB_SANITIZERS else []
SKIP_EXIT = 77


def run_coriogen(args, cwd=None):
    """Run the CLI in this process; returns (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        status = cli.main(list(args), stdout=out, stderr=err)
    finally:
        os.chdir(old)
    return status, out.getvalue(), err.getvalue()


def compilers():
    """The C compilers to test with: gcc and clang when installed, or the
    list in CORIO_TEST_CC (space separated)."""
    names = os.environ.get("CORIO_TEST_CC", "gcc clang").split()
    return [cc for cc in names if shutil.which(cc)]


def build_dir():
    return os.environ.get("CORIO_BUILD_DIR", os.path.join(REPO, "build"))


_snapshot = None


def libcorio():
    """A private copy of the built static runtime, or None (tests then
    skip).  Copied once per run so that a rebuild of the project during the
    tests cannot hand a half-written archive to the linker."""
    global _snapshot
    path = os.path.join(build_dir(), "runtime", "libcorio.a")
    if _snapshot is None and os.path.exists(path):
        for _ in range(20):
            before = os.stat(path)
            fd, copy = tempfile.mkstemp(prefix="coriogen-libcorio-",
                                        suffix=".a")
            os.close(fd)
            shutil.copyfile(path, copy)
            after = os.stat(path)
            if (before.st_mtime_ns, before.st_size) == \
                    (after.st_mtime_ns, after.st_size):
                _snapshot = copy
                atexit.register(os.unlink, copy)
                break
            os.unlink(copy)
            time.sleep(0.5)     # being rebuilt: wait for it to settle
    return _snapshot


def missing_runtime_reason():
    return ("libcorio.a not found under %s (build the project first, or set "
            "CORIO_BUILD_DIR)" % build_dir())


def runtime_libs():
    try:
        flags = subprocess.run(["pkg-config", "--libs", "liburing"],
                               capture_output=True, text=True, check=True)
        libs = flags.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        libs = ["-luring"]
    return libs + ["-lpthread"] + LIB_SANITIZE


def compile_c(cc, sources, output, defines=(), sanitize=True, extra=(),
              opt="-O1"):
    """Compile and link; returns (ok, diagnostics text)."""
    cmd = [cc, "-std=gnu11", "-g", opt] + WARNINGS + \
        (SANITIZE if sanitize else LIB_SANITIZE) + \
        ["-I" + INCLUDE, "-I" + MACROS]
    cmd += ["-D" + d for d in defines] + list(extra)
    cmd += list(sources) + ["-o", output]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return proc.returncode == 0, " ".join(cmd) + "\n" + proc.stderr


def link_unsanitized(test, cc, sources, output):
    """Compile @sources with the runtime, without sanitizers of their own;
    fails @test with the compiler's log when that does not work."""
    ok, log = compile_c(cc, list(sources) + [libcorio()] + runtime_libs(),
                        output, sanitize=False)
    test.assertTrue(ok, log)


def run_program(path, args=(), timeout=60):
    env = dict(os.environ)
    # A pointer into the stack of a resume function that has returned
    # (suspended) must be caught, not read as whatever is there now.
    env.setdefault("ASAN_OPTIONS",
                   "detect_leaks=1:detect_stack_use_after_return=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    proc = subprocess.run([path] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=env)
    return proc.returncode, proc.stdout, proc.stderr


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="coriogen-test-")
        return self.path

    def __exit__(self, *exc):
        if not os.environ.get("CORIO_KEEP_TEMP"):
            shutil.rmtree(self.path, ignore_errors=True)
