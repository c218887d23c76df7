# SPDX-License-Identifier: MIT
"""Golden tests: golden/NAME.c must generate exactly golden/NAME.gen.c and
golden/NAME.gen.h.  Review a change, then refresh the files with

    CORIO_UPDATE_GOLDEN=1 /usr/bin/python3 -m unittest discover -s tests -t tests

The comparison is coriogen's own --check mode, run with relative paths so
the #line directives do not depend on where the repository lives."""

import os
import unittest

import support

GOLDEN = os.path.join(support.TESTS, "golden")


class GoldenTests(unittest.TestCase):
    def check(self, name):
        stem = name[:-2]
        args = [name, "-o", stem + ".gen.c", "--header", stem + ".gen.h"]
        if os.environ.get("CORIO_UPDATE_GOLDEN"):
            status, _, stderr = support.run_coriogen(args, cwd=GOLDEN)
            self.assertEqual(status, 0, stderr)
        status, _, stderr = support.run_coriogen(args + ["--check"],
                                                 cwd=GOLDEN)
        self.assertEqual(status, 0, "golden output differs (set "
                         "CORIO_UPDATE_GOLDEN=1 to refresh):\n" + stderr)
        # The reviewed output must also compile cleanly.
        for cc in support.compilers():
            with self.subTest(cc=cc), support.TempDir() as tmp:
                ok, log = support.compile_c(
                    cc, [os.path.join(GOLDEN, stem + ".gen.c")],
                    os.path.join(tmp, stem + ".o"), sanitize=False,
                    extra=["-c"] + support.PROJECT_WARNINGS)
                self.assertTrue(ok, log)


def _add_tests():
    for name in sorted(os.listdir(GOLDEN)):
        if name.endswith(".c") and not name.endswith(".gen.c"):
            setattr(GoldenTests, "test_golden_" + name[:-2],
                    lambda self, name=name: self.check(name))


_add_tests()

if __name__ == "__main__":
    unittest.main()
