# SPDX-License-Identifier: MIT
"""Compile-and-run tests with gcc and clang under -Wall -Wextra -Werror and
ASan+UBSan, linked against the built libcorio.

cases/*.c   differential oracle: the generated coroutine build must print
            exactly what the same file prints built in CORIO_SYNC_MODE
            (await is a plain call, stand-ins for the runtime operations).
run/*.c     programs with their own main() (spawn, errors, cancellation)
            whose output must equal run/NAME.expected.
"""

import os
import socket
import subprocess
import unittest

import support

CASES = os.path.join(support.TESTS, "cases")
RUN = os.path.join(support.TESTS, "run")
EXAMPLES = os.path.join(support.CODEGEN, "examples")


def build_generated(test, cc, tmp, source, extra_sources=(), opt="-O1"):
    """coriogen + compile; returns the executable path."""
    name = os.path.splitext(os.path.basename(source))[0]
    gen = os.path.join(tmp, name + ".gen.c")
    status, _, stderr = support.run_coriogen([source, "-o", gen])
    test.assertEqual(status, 0, stderr)
    exe = os.path.join(tmp, name + ".async." + cc)
    ok, log = support.compile_c(
        cc, [gen] + list(extra_sources) + [support.libcorio()] +
        support.runtime_libs(), exe, opt=opt,
        extra=support.PROJECT_WARNINGS)
    test.assertTrue(ok, log)
    return exe


def run_ok(test, exe):
    status, out, err = support.run_program(exe)
    if status == support.SKIP_EXIT:
        test.skipTest("io_uring unavailable: " + err.strip())
    test.assertEqual(status, 0, "exit %d\n%s%s" % (status, out, err))
    return out


class RunTests(unittest.TestCase):
    def setUp(self):
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())
        if not support.compilers():
            self.skipTest("neither gcc nor clang is installed")

    def oracle(self, name):
        source = os.path.join(CASES, name)
        for cc in support.compilers():
            with self.subTest(cc=cc), support.TempDir() as tmp:
                exe = build_generated(self, cc, tmp, source, [
                    os.path.join(support.HARNESS, "async_main.c"),
                    os.path.join(support.HARNESS, "dsl_triple.c")])
                sync_exe = os.path.join(tmp, "sync." + cc)
                ok, log = support.compile_c(
                    cc, [source,
                         os.path.join(support.HARNESS, "sync_main.c"),
                         os.path.join(support.HARNESS, "sync_standins.c")],
                    sync_exe, defines=["CORIO_SYNC_MODE"])
                self.assertTrue(ok, log)
                want = run_ok(self, sync_exe)
                got = run_ok(self, exe)
                self.assertEqual(got, want)
                self.assertIn("status=0", got)

    def expected_output(self, name):
        source = os.path.join(RUN, name)
        with open(os.path.join(RUN, name[:-2] + ".expected")) as fh:
            want = fh.read()
        for cc in support.compilers():
            with self.subTest(cc=cc), support.TempDir() as tmp:
                exe = build_generated(self, cc, tmp, source)
                self.assertEqual(run_ok(self, exe), want)


class ExampleTests(unittest.TestCase):
    """The programs in codegen/examples build cleanly and run."""

    def setUp(self):
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())
        if not support.compilers():
            self.skipTest("neither gcc nor clang is installed")

    def build(self, tmp, cc, name, extra=()):
        return build_generated(self, cc, tmp,
                               os.path.join(EXAMPLES, name), extra)

    def test_hello_await(self):
        for cc in support.compilers():
            with self.subTest(cc=cc), support.TempDir() as tmp:
                out = run_ok(self, self.build(tmp, cc, "hello_await.c"))
                self.assertEqual(out.count("hello, world"), 3)
                self.assertEqual(out.count("hello, corio"), 2)
                self.assertIn("done: 3 + 2 greetings, status 0/0", out)

    def test_cp_await_behaves_like_the_macro_cp(self):
        """Same files, messages and exit codes as samples/cp (built by the
        project) for a copy, a missing source, the same file and a
        directory."""
        macro_cp = os.path.join(support.build_dir(), "samples", "cp")
        cc = support.compilers()[0]
        with support.TempDir() as tmp:
            exe = self.build(tmp, cc, "cp_await.c")
            src = os.path.join(tmp, "src.bin")
            with open(src, "wb") as fh:
                fh.write(os.urandom(3 * 128 * 1024 + 12345))
            cases = [(src, "a.bin"), ("missing", "b.bin"), (src, src),
                     (tmp, "c.bin")]
            for args in cases:
                args = [a if os.path.isabs(a) else os.path.join(tmp, a)
                        for a in args]
                status, out, err = support.run_program(exe, args)
                if status == support.SKIP_EXIT:
                    self.skipTest("io_uring unavailable")
                self.assertEqual(status, 0 if args[0] == src and
                                 args[1] != src else 1, err)
                if os.path.exists(macro_cp):
                    want = support.run_program(macro_cp, args)
                    self.assertEqual((status, out, err), want)
            with open(src, "rb") as a, \
                    open(os.path.join(tmp, "a.bin"), "rb") as b:
                self.assertEqual(a.read(), b.read())

    def test_echo_await_echoes(self):
        """Two connections (one of 300 KB) come back byte for byte, then
        the server exits 0 as asked on its command line."""
        cc = support.compilers()[0]
        with support.TempDir() as tmp:
            exe = self.build(tmp, cc, "echo_await.c")
            proc = subprocess.Popen([exe, "0", "2"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            try:
                line = proc.stdout.readline()
                if not line:
                    proc.wait(timeout=30)
                    if proc.returncode == support.SKIP_EXIT:
                        self.skipTest("io_uring unavailable")
                    self.fail("no listening line: " + proc.stderr.read())
                port = int(line.rsplit(":", 1)[1])
                for message in (b"hello, corio\n", os.urandom(300000)):
                    with socket.create_connection(("127.0.0.1", port),
                                                  timeout=30) as conn:
                        conn.sendall(message)
                        conn.shutdown(socket.SHUT_WR)
                        got = b"".join(iter(lambda: conn.recv(65536), b""))
                    self.assertEqual(got, message)
                self.assertEqual(proc.wait(timeout=30), 0,
                                 proc.stderr.read())
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()

    def test_bench_await_runs(self):
        cc = support.compilers()[0]
        with support.TempDir() as tmp:
            exe = self.build(tmp, cc, "bench_await.c", [
                os.path.join(EXAMPLES, "bench_await_dsl.c")])
            status, out, err = support.run_program(exe, ["20000"])
            if status == support.SKIP_EXIT:
                self.skipTest("io_uring unavailable")
            self.assertEqual(status, 0, err)
            self.assertRegex(out, r"ratio=\d+\.\d+")


def _add_tests():
    for name in sorted(os.listdir(CASES)):
        if name.endswith(".c"):
            setattr(RunTests, "test_oracle_" + name[:-2],
                    lambda self, name=name: self.oracle(name))
    for name in sorted(os.listdir(RUN)):
        if name.endswith(".c"):
            setattr(RunTests, "test_run_" + name[:-2],
                    lambda self, name=name: self.expected_output(name))


_add_tests()

if __name__ == "__main__":
    unittest.main()
