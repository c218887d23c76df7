# SPDX-License-Identifier: MIT
"""Random programs (randprog.py) checked against the differential oracle.

CORIO_RANDOM_SEEDS sets how many seeds run (default 200, in batches of 50
functions per program, alternating gcc and clang, all under ASan+UBSan
at -O0).
A failure names the batch; `python3 randprog.py FIRST COUNT` reprints it.
"""

import os
import unittest

import randprog
import support
from test_run import build_generated, run_ok

BATCH = 50


class RandomOracleTests(unittest.TestCase):
    def test_random_programs_match_the_oracle(self):
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())
        ccs = support.compilers()
        if not ccs:
            self.skipTest("neither gcc nor clang is installed")
        seeds = int(os.environ.get("CORIO_RANDOM_SEEDS", "200"))
        for number, first in enumerate(range(1, seeds + 1, BATCH)):
            count = min(BATCH, seeds + 1 - first)
            cc = ccs[number % len(ccs)]
            with self.subTest(first_seed=first, count=count, cc=cc), \
                    support.TempDir() as tmp:
                source = os.path.join(tmp, "random_%d.c" % first)
                with open(source, "w") as fh:
                    fh.write(randprog.program(first, count))
                # -O0: sanitizers at -O1 take many seconds on the large
                # resume functions a batch of random programs makes.
                exe = build_generated(self, cc, tmp, source, [
                    os.path.join(support.HARNESS, "async_main.c")],
                    opt="-O0")
                sync_exe = os.path.join(tmp, "sync")
                ok, log = support.compile_c(
                    cc, [source,
                         os.path.join(support.HARNESS, "sync_main.c"),
                         os.path.join(support.HARNESS, "sync_standins.c")],
                    sync_exe, defines=["CORIO_SYNC_MODE"], opt="-O0")
                self.assertTrue(ok, log)
                want = run_ok(self, sync_exe)
                self.assertEqual(run_ok(self, exe), want)


if __name__ == "__main__":
    unittest.main()
