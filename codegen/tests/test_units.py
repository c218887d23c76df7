# SPDX-License-Identifier: MIT
"""Unit tests of the building blocks: the declarator writer, the #line
emitter, and the small source scanners used by the lowering."""

import os
import unittest

import support  # noqa: F401  (puts coriogen on sys.path)
from coriogen import emit, parse, source


def parse_snippet(text, tmp):
    path = os.path.join(tmp, "snippet.c")
    with open(path, "w") as fh:
        fh.write(text)
    return parse.parse(path)


def find_vars(tu):
    found = {}

    def visit(c):
        if c.kind == parse.ci.CursorKind.VAR_DECL:
            found[c.spelling] = c
        for child in c.get_children():
            visit(child)
    visit(tu.cursor)
    return found


class DeclaratorTests(unittest.TestCase):
    SNIPPET = """
typedef unsigned long word;
struct s { int a; };
void f(void)
{
    int a = 1, *b = &a, c[3];
    const char *const name = "x";
    int (*fp)(int, char *);
    int (*table[2])(void);
    const word w = 2;
    struct s rec;
    double grid[2][3];
    const int consts[2] = {1, 2};
    char (*rows)[8];
    (void)a; (void)b; (void)c; (void)name; (void)fp; (void)table;
    (void)w; (void)rec; (void)grid; (void)consts; (void)rows;
}
"""
    WANT = {
        "a": "int a", "b": "int *b", "c": "int c[3]",
        "name": "const char *name", "fp": "int (*fp)(int, char *)",
        "table": "int (*table[2])(void)", "w": "word w",
        "rec": "struct s rec", "grid": "double grid[2][3]",
        "consts": "int consts[2]", "rows": "char (*rows)[8]",
    }

    def test_declarations_come_from_types(self):
        from coriogen.declarator import declare
        with support.TempDir() as tmp:
            tu, _ = parse_snippet(self.SNIPPET, tmp)
            found = find_vars(tu)
            for name, want in self.WANT.items():
                self.assertEqual(declare(found[name].type, name), want)


class EmitterTests(unittest.TestCase):
    def test_directive_only_when_the_line_drifts(self):
        em = emit.Emitter("in.c", "out.c")
        em.source(1, "int a;\nint b;\n")
        em.source(3, "int c;")
        em.generated("int gen;")
        em.source(3, "int d;")
        text = em.finish().splitlines()
        self.assertEqual(text, ['#line 1 "in.c"', "int a;", "int b;",
                                "int c;", '#line 6 "out.c"', "int gen;",
                                '#line 3 "in.c"', "int d;"])

    def test_items_of_one_line_share_a_physical_line(self):
        em = emit.Emitter("in.c", "out.c")
        em.source(5, "x();")
        em.source(5, "y();")
        em.floating("}")
        self.assertEqual(em.finish().splitlines(),
                         ['#line 5 "in.c"', "x(); y(); }"])

    def test_no_line_mode_writes_no_directives(self):
        em = emit.Emitter("in.c", "out.c", line_directives=False)
        em.source(9, "a();")
        em.generated("b();")
        em.source(2, "c();")
        self.assertEqual(em.finish().splitlines(), ["a();", "b();", "c();"])


class ScannerTests(unittest.TestCase):
    def make_source(self, text):
        return source.SourceFile("x.c", text.encode())

    def test_fallthrough_comment_is_recognised(self):
        text = "x();\n\t/* Fall through. */\n\tcase 2:"
        src = self.make_source(text)
        self.assertEqual(source.comments_before(src, text.index("case")),
                         "fallthrough")
        text = "x(); // fallthrough\ncase 2:"
        src = self.make_source(text)
        self.assertEqual(source.comments_before(src, text.index("case")),
                         "fallthrough")

    def test_skip_space_skips_comments(self):
        src = self.make_source("a /* c */ // d\n  b")
        self.assertEqual(src.skip_space(1), len("a /* c */ // d\n  "))

    def test_line_and_column(self):
        src = self.make_source("ab\ncd\n")
        self.assertEqual((src.line_of(4), src.col_of(4)), (2, 2))


if __name__ == "__main__":
    unittest.main()
