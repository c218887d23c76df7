# SPDX-License-Identifier: MIT
"""One test per diagnostic: each file in diag/ marks the lines that must
be reported with `// expect-error: ID`.  The tool must exit 1, report
exactly those (line, id) pairs, write no output and print no traceback."""

import os
import re
import subprocess
import unittest

import support

DIAG = os.path.join(support.TESTS, "diag")
EXPECT = re.compile(r"expect-error:\s*([a-z-]+)")
REPORTED = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+):(?P<col>\d+): "
                      r"error: .* \[(?P<id>[a-z-]+)\]$", re.M)


def expected_errors(path):
    found = []
    with open(path) as fh:
        for number, text in enumerate(fh, 1):
            for ident in EXPECT.findall(text):
                found.append((number, ident))
    return sorted(found)


class DiagnosticTests(unittest.TestCase):
    def check_file(self, name):
        path = os.path.join(DIAG, name)
        with support.TempDir() as tmp:
            out = os.path.join(tmp, "out.c")
            status, stdout, stderr = support.run_coriogen(
                [name, "-o", out], cwd=DIAG)
            self.assertEqual(status, 1, stderr)
            self.assertFalse(os.path.exists(out), "partial output written")
        self.assertNotIn("Traceback", stderr)
        got = sorted(set((int(m.group("line")), m.group("id"))
                         for m in REPORTED.finditer(stderr)))
        self.assertEqual(got, sorted(set(expected_errors(path))), stderr)
        for m in REPORTED.finditer(stderr):
            self.assertEqual(m.group("path"), name)


def _add_tests():
    for name in sorted(os.listdir(DIAG)):
        if name.endswith(".c"):
            def test(self, name=name):
                self.check_file(name)
            setattr(DiagnosticTests, "test_" + name[:-2], test)


_add_tests()


class ToolErrorTests(unittest.TestCase):
    def test_missing_input_is_a_diagnostic(self):
        status, _, stderr = support.run_coriogen(["no/such/file.c"])
        self.assertEqual(status, 1)
        self.assertIn("[corio-io]", stderr)

    def test_bad_usage_exits_2(self):
        status, _, _ = support.run_coriogen(["--no-such-option"])
        self.assertEqual(status, 2)

    def test_internal_error_is_reported_without_traceback(self):
        from coriogen import cli
        saved = cli.analyze

        def broken(*args):
            raise RuntimeError("simulated bug")
        cli.analyze = broken
        try:
            status, _, stderr = support.run_coriogen(
                [os.path.join(support.TESTS, "cases", "fib.c")])
        finally:
            cli.analyze = saved
        self.assertEqual(status, 2)
        self.assertIn("error: internal: RuntimeError: simulated bug", stderr)
        self.assertNotIn("Traceback", stderr)

    def test_command_line_never_prints_a_traceback(self):
        env = dict(os.environ, PYTHONPATH=support.CODEGEN)
        proc = subprocess.run(
            ["/usr/bin/python3", "-m", "coriogen",
             os.path.join(DIAG, "vla.c"), "-o", os.devnull],
            capture_output=True, text=True, env=env)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("[corio-vla]", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)

    def test_untransformed_input_does_not_compile(self):
        cc = (support.compilers() or [None])[0]
        if cc is None:
            self.skipTest("no C compiler")
        proc = subprocess.run(
            [cc, "-fsyntax-only", "-I" + support.INCLUDE,
             os.path.join(support.TESTS, "cases", "fib.c")],
            capture_output=True, text=True)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("must be transformed by coriogen", proc.stderr)


if __name__ == "__main__":
    unittest.main()
