# SPDX-License-Identifier: MIT
"""libclang front end: parse the input with the codegen keywords, forward
clang's errors, and the cursor helpers the other passes share.

Only Debian's python3-clang-14 bindings are used; they import with the
system interpreter (/usr/bin/python3), not with a pyenv or venv python3.
"""

import os
from ctypes import byref, c_uint, c_void_p

from .diagnostics import CodegenError, Diagnostic
from .source import SourceFile

try:
    import clang.cindex as ci
except ImportError as exc:          # reported by cli.main, never a traceback
    ci = None
    IMPORT_ERROR = exc
else:
    IMPORT_ERROR = None

# What `async` expands to while coriogen parses (include/corio/await.h).
ANNOTATION = "corio_async"

# Where corio/await.h and corio.h are: an installed copy of coriogen has
# an install_paths module, written by `cmake --install`, naming the
# installed include directory relative to this one (so the installed tree
# can move); in the source tree it is the repository's include/.
HERE = os.path.dirname(os.path.abspath(__file__))
try:
    from .install_paths import INCLUDE_DIR
except ImportError:
    INCLUDE_DIR = os.path.join("..", "..", "include")
DEFAULT_INCLUDE = os.path.normpath(os.path.join(HERE, INCLUDE_DIR))


def spelling_offset(location):
    """Byte offset where the token at @location is spelled.

    For a reference inside a macro argument that is the argument's own
    text; for one produced by a macro body it is the macro name at the
    expansion site.  The bindings do not wrap clang_getSpellingLocation.
    """
    f, line, col, off = c_void_p(), c_uint(), c_uint(), c_uint()
    ci.conf.lib.clang_getSpellingLocation(location, byref(f), byref(line),
                                          byref(col), byref(off))
    return off.value


def clang_args(include_dirs, defines, extra=()):
    args = ["-x", "c", "-std=gnu11", "-D__CORIO_CODEGEN__"]
    for d in defines:
        args.append("-D" + d)
    for inc in list(include_dirs) + [DEFAULT_INCLUDE]:
        args.append("-I" + inc)
    args.extend(extra)
    return args


def parse(path, include_dirs=(), defines=(), extra_args=()):
    """Parse @path; returns (translation unit, SourceFile).

    Raises CodegenError with clang's own errors (id corio-parse) when the
    input is not valid C under the codegen keywords.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise CodegenError([Diagnostic(path, 1, 1, "cannot read input: %s"
                                       % exc.strerror, "corio-io")])
    source = SourceFile(path, data)
    index = ci.Index.create()
    # The detailed record gives macro definitions and instantiations:
    # await sites and macro misuse are found through them.
    opts = ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD
    try:
        tu = index.parse(path, args=clang_args(include_dirs, defines,
                                               extra_args),
                         unsaved_files=[(path, data)], options=opts)
    except ci.TranslationUnitLoadError:
        raise CodegenError([Diagnostic(path, 1, 1,
                                       "libclang could not parse the file",
                                       "corio-parse")])
    errors = []
    for diag in tu.diagnostics:
        if diag.severity < ci.Diagnostic.Error:
            continue
        loc = diag.location
        where = loc.file.name if loc.file else path
        errors.append(Diagnostic(display_path(where, path, source.path),
                                 loc.line or 1, loc.column or 1,
                                 diag.spelling, "corio-parse"))
    if errors:
        raise CodegenError(errors)
    return tu, source


def display_path(name, main_name, shown_main):
    """Paths in messages: the main file as the user named it."""
    if os.path.abspath(name) == os.path.abspath(main_name):
        return shown_main
    return name


def in_main_file(cursor, source):
    # libclang names the main file exactly as it was passed to parse().
    loc = cursor.location
    return loc.file is not None and loc.file.name == source.path


# Cursor helpers shared by the analysis and the lowering.

def is_async_decl(cursor):
    """True when @cursor carries the `async` annotation."""
    for child in cursor.get_children():
        if child.kind == ci.CursorKind.ANNOTATE_ATTR and child.spelling == ANNOTATION:
            return True
    return False


def walk(cursor, visit, stack):
    """Pre-order walk; visit(cursor, ancestors) returns False to prune."""
    if visit(cursor, stack) is False:
        return
    stack.append(cursor)
    for child in cursor.get_children():
        walk(child, visit, stack)
    stack.pop()


def callee_name(call):
    """Name of the function a CALL_EXPR calls directly, or None."""
    kinds = ci.CursorKind
    for child in call.get_children():     # the callee comes first
        node = child
        while node.kind in (kinds.UNEXPOSED_EXPR, kinds.PAREN_EXPR):
            kids = list(node.get_children())
            if len(kids) != 1:
                return None
            node = kids[0]
        if node.kind == kinds.DECL_REF_EXPR and \
                node.referenced is not None and \
                node.referenced.kind == kinds.FUNCTION_DECL:
            return node.spelling
        return None
    return None


def async_function_type(t):
    """For type @t of a called expression: the annotated TYPEDEF_DECL when
    @t is (a pointer to) a function type declared with
    `typedef async T name(params);` or `typedef async T (*name)(...);`,
    else None."""
    for _ in range(16):
        if t.kind == ci.TypeKind.POINTER:
            t = t.get_pointee()
            continue
        decl = t.get_declaration()
        if decl is None or decl.kind != ci.CursorKind.TYPEDEF_DECL:
            return None
        if is_async_decl(decl):
            return decl
        t = decl.underlying_typedef_type
    return None


def function_type_of(typedef):
    """The FUNCTIONPROTO an async typedef names (directly or through one
    pointer)."""
    t = typedef.underlying_typedef_type.get_canonical()
    if t.kind == ci.TypeKind.POINTER:
        t = t.get_pointee().get_canonical()
    return t


def call_callee(call):
    """The callee expression of a CALL_EXPR (its first child)."""
    return next(call.get_children(), None)


def call_arguments(call):
    """The argument cursors of a CALL_EXPR."""
    return list(call.get_arguments())
