# SPDX-License-Identifier: MIT
"""cmake/CorioCodegen.cmake: a throw-away project builds a program from an
async/await source with corio_add_async_sources(), regenerates it when the
input changes, and stops with a clear message for an interpreter that
cannot import clang.cindex."""

import os
import shutil
import subprocess
import time
import unittest

import support

PROJECT = """\
cmake_minimum_required(VERSION 3.20)
project(coriogen_cmake_test C)
list(APPEND CMAKE_MODULE_PATH "{cmake_dir}")
include(CorioCodegen)
add_executable(fibdemo "{harness}")
target_include_directories(fibdemo PRIVATE "{include}")
target_link_libraries(fibdemo PRIVATE "{libcorio}" {libs})
corio_add_async_sources(fibdemo fib.c)
"""


def cmake(*args, cwd):
    return subprocess.run(["cmake"] + list(args), cwd=cwd,
                          capture_output=True, text=True)


class CMakeTests(unittest.TestCase):
    def setUp(self):
        if shutil.which("cmake") is None:
            self.skipTest("cmake not installed")
        if support.libcorio() is None:
            self.skipTest(support.missing_runtime_reason())

    def write_project(self, tmp):
        # fib.c with its loop bound from a header next to it, included
        # with quotes: the generated copy must still find it.
        with open(os.path.join(support.TESTS, "cases", "fib.c")) as fh:
            text = fh.read()
        text = text.replace("#include <stdio.h>\n", "#include <stdio.h>\n"
                            "#include \"limits_here.h\"\n")
        text = text.replace("i < 15;", "i < FIB_LIMIT;")
        with open(os.path.join(tmp, "fib.c"), "w") as fh:
            fh.write(text)
        with open(os.path.join(tmp, "limits_here.h"), "w") as fh:
            fh.write("#define FIB_LIMIT 15\n")
        with open(os.path.join(tmp, "CMakeLists.txt"), "w") as fh:
            fh.write(PROJECT.format(
                cmake_dir=os.path.join(support.REPO, "cmake"),
                harness=os.path.join(support.HARNESS, "async_main.c"),
                include=support.INCLUDE, libcorio=support.libcorio(),
                libs=" ".join(lib[2:] if lib.startswith("-l") else lib
                              for lib in support.runtime_libs())))

    def test_build_and_regenerate(self):
        with support.TempDir() as tmp:
            self.write_project(tmp)
            proc = cmake("-S", ".", "-B", "b", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            proc = cmake("--build", "b", cwd=tmp)
            self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
            self.assertIn("coriogen fib.c", proc.stdout)
            status, out, err = support.run_program(
                os.path.join(tmp, "b", "fibdemo"))
            if status == support.SKIP_EXIT:
                self.skipTest("io_uring unavailable")
            self.assertEqual(status, 0, err)
            self.assertIn("result=986 status=0", out)
            proc = cmake("--build", "b", cwd=tmp)
            self.assertNotIn("coriogen fib.c", proc.stdout)
            time.sleep(1.1)     # make's timestamps have 1 s resolution here
            os.utime(os.path.join(tmp, "fib.c"))
            proc = cmake("--build", "b", cwd=tmp)
            self.assertIn("coriogen fib.c", proc.stdout)
            # A header the input includes regenerates it too (depfile).
            time.sleep(1.1)
            with open(os.path.join(tmp, "limits_here.h"), "w") as fh:
                fh.write("#define FIB_LIMIT 5\n")
            proc = cmake("--build", "b", cwd=tmp)
            self.assertIn("coriogen fib.c", proc.stdout)
            _, out, _ = support.run_program(os.path.join(tmp, "b",
                                                         "fibdemo"))
            self.assertIn("result=7 status=0", out)

    def test_interpreter_without_libclang_is_refused(self):
        with support.TempDir() as tmp:
            self.write_project(tmp)
            with open(os.path.join(tmp, "nolibclang"), "w") as fh:
                fh.write("#!/bin/sh\nexit 1\n")
            os.chmod(os.path.join(tmp, "nolibclang"), 0o755)
            proc = cmake("-S", ".", "-B", "b", "-DCORIO_CODEGEN_PYTHON=" +
                         os.path.join(tmp, "nolibclang"), cwd=tmp)
            self.assertNotEqual(proc.returncode, 0)
            self.assertRegex(proc.stderr, r"cannot\s+import\s+clang\.cindex")


if __name__ == "__main__":
    unittest.main()
