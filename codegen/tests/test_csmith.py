# SPDX-License-Identifier: MIT
"""Csmith programs with every function async and every call awaited must
print the checksum of their plain build (csmith_async.py; the long set is
`python3 csmith_async.py FIRST COUNT [--no-consts]`).

CORIO_CSMITH_SEEDS sets how many seeds of each kind run (default 8, with
and without const); skipped when csmith or libcsmith-dev is missing.
"""

import os
import unittest
from concurrent.futures import ThreadPoolExecutor

import csmith_async
import support


class CsmithTests(unittest.TestCase):
    def setUp(self):
        if not csmith_async.available():
            self.skipTest("csmith or libcsmith-dev is not installed")
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())

    def check(self, consts):
        count = int(os.environ.get("CORIO_CSMITH_SEEDS", "8"))
        seeds = range(1, count + 1)
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(
                lambda s: csmith_async.check_seed(s, consts), seeds))
        failed = ["seed %d: %s" % (o.seed, o.detail) for o in outcomes
                  if o.status == "fail"]
        self.assertEqual(failed, [])
        self.assertTrue(any(o.status == "ok" for o in outcomes))

    def test_with_const(self):
        self.check(True)

    def test_without_const(self):
        self.check(False)


if __name__ == "__main__":
    unittest.main()
