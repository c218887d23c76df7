# SPDX-License-Identifier: MIT
"""#line directives: a compiler error and a gdb breakpoint inside an async
function must point at the user's source line, not the generated file."""

import os
import re
import shutil
import subprocess
import unittest

import support

BROKEN = """\
#include <corio/await.h>

async int id(int v)
{
	await corio_yield();
	return v;
}

async int test_main(void)
{
	int a = await id(1);
	int b;

	b = a + await id(2);
	return b + not_declared_later;
}
"""

GOOD = """\
#include <stdio.h>
#include <corio/await.h>

async int id(int v)
{
	await corio_yield();
	return v;
}

async int test_main(void)
{
	int total = 0;

	for (int i = 0; i < 3; i++)
		total += await id(i);
	printf("total=%d\\n", total);
	return total;
}
"""


class LineTests(unittest.TestCase):
    def generate(self, tmp, text, extra=()):
        src = os.path.join(tmp, "prog.c")
        with open(src, "w") as fh:
            fh.write(text)
        out = os.path.join(tmp, "prog.gen.c")
        status, _, stderr = support.run_coriogen(
            ["prog.c", "-o", "prog.gen.c"] + list(extra), cwd=tmp)
        self.assertEqual(status, 0, stderr)
        return out

    def test_compile_error_points_at_user_line(self):
        # coriogen parses with its own clang; give it a declaration the
        # C compiler will not see, so only the compile of the output fails.
        with support.TempDir() as tmp:
            text = BROKEN.replace(
                "#include <corio/await.h>\n",
                "#include <corio/await.h>\n#ifdef __CORIO_CODEGEN__\n"
                "extern int not_declared_later;\n#endif\n")
            out = self.generate(tmp, text)
            want = text.splitlines().index(
                "\treturn b + not_declared_later;") + 1
            for cc in support.compilers():
                with self.subTest(cc=cc):
                    proc = subprocess.run(
                        [cc, "-c", "-I" + support.INCLUDE, out, "-o",
                         os.path.join(tmp, "x.o")],
                        capture_output=True, text=True, cwd=tmp)
                    self.assertNotEqual(proc.returncode, 0)
                    m = re.search(r"prog\.c:(\d+):\d+: error", proc.stderr)
                    self.assertIsNotNone(m, proc.stderr)
                    self.assertEqual(int(m.group(1)), want, proc.stderr)

    def test_gdb_breakpoint_stops_at_user_line(self):
        if shutil.which("gdb") is None:
            self.skipTest("gdb not installed")
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())
        cc = (support.compilers() or [None])[0]
        if cc is None:
            self.skipTest("no C compiler")
        with support.TempDir() as tmp:
            out = self.generate(tmp, GOOD)
            exe = os.path.join(tmp, "prog")
            support.link_unsanitized(self, cc, [out, os.path.join(
                support.HARNESS, "async_main.c")], exe)
            line = GOOD.splitlines().index(
                '\tprintf("total=%d\\n", total);') + 1
            proc = subprocess.run(
                ["gdb", "-nx", "-batch", "-ex", "break prog.c:%d" % line,
                 "-ex", "run", "-ex", "print corio_self->total",
                 "-ex", "kill", exe],
                capture_output=True, text=True, cwd=tmp, timeout=120)
            self.assertIn("prog.c:%d" % line, proc.stdout, proc.stdout +
                          proc.stderr)
            self.assertIn("test_main__resume", proc.stdout)
            self.assertRegex(proc.stdout, r"\$1 = 3\b")

    def test_no_line_omits_directives(self):
        with support.TempDir() as tmp:
            out = self.generate(tmp, GOOD, ["--no-line"])
            with open(out) as fh:
                self.assertNotIn("#line", fh.read())


if __name__ == "__main__":
    unittest.main()
