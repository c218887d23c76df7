# SPDX-License-Identifier: MIT
"""Write C declarations from libclang types (never from declaration text).

In `int a = 1, *b = &a, c[3];` the extents of b and c start at their
declarators, so copying text loses the base type; the Type API does not.
Typedef names are kept as written; the top-level qualifiers of a hoisted
variable are dropped because its initialiser becomes an assignment.
"""

from .parse import ci

TK = None if ci is None else ci.TypeKind

_QUALIFIER_WORDS = ("const", "volatile", "restrict", "__restrict")


class TypeProblem(Exception):
    """The type cannot be written at file scope; .ident is the diag id."""

    def __init__(self, message, ident):
        super().__init__(message)
        self.message = message
        self.ident = ident


def _qualifiers(t):
    words = []
    if t.is_const_qualified():
        words.append("const")
    if t.is_volatile_qualified():
        words.append("volatile")
    if t.is_restrict_qualified():
        words.append("restrict")
    return words


def _strip_leading_qualifiers(spelling):
    words = spelling.split(" ")
    while words and words[0] in _QUALIFIER_WORDS:
        words.pop(0)
    return " ".join(words)


def _check_named_type(t):
    """Reject types a file-scope frame struct cannot name."""
    spelling = t.spelling
    if "(unnamed" in spelling or "(anonymous" in spelling:
        raise TypeProblem("type '%s' has no name; give it a tag or a "
                          "typedef at file scope" % spelling,
                          "corio-local-type")
    decl = t.get_declaration()
    if decl is not None and decl.kind != ci.CursorKind.NO_DECL_FOUND:
        parent = decl.semantic_parent
        if parent is not None and parent.kind == ci.CursorKind.FUNCTION_DECL:
            raise TypeProblem("type '%s' is declared inside a function; "
                              "move it to file scope" % spelling,
                              "corio-local-type")


def declare(t, inner, keep_top_qualifiers=False):
    """C declaration of @inner (a declarator such as a name) with type @t."""
    kind = t.kind
    quals = _qualifiers(t) if keep_top_qualifiers else []
    if kind == TK.POINTER:
        pointee = t.get_pointee()
        decl = "*" + (" ".join(quals) + " " if quals else "") + inner
        if pointee.kind in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY,
                            TK.VARIABLEARRAY, TK.FUNCTIONPROTO,
                            TK.FUNCTIONNOPROTO):
            decl = "(" + decl + ")"
        return declare(pointee, decl, keep_top_qualifiers=True)
    # An array's qualifiers live on its elements: a hoisted `const int
    # t[2]` becomes a writable `int t[2]` filled by its initialiser.
    if kind == TK.CONSTANTARRAY:
        return declare(t.element_type, "%s[%d]" % (inner, t.element_count),
                       keep_top_qualifiers)
    if kind == TK.INCOMPLETEARRAY:
        return declare(t.element_type, inner + "[]", keep_top_qualifiers)
    if kind in (TK.VARIABLEARRAY, TK.DEPENDENTSIZEDARRAY):
        raise TypeProblem("variable-length array: a resume point cannot "
                          "jump over it", "corio-vla")
    if kind == TK.FUNCTIONPROTO:
        params = [declare(a, "", keep_top_qualifiers=True).rstrip()
                  for a in t.argument_types()]
        if t.is_function_variadic():
            params.append("...")
        return declare(t.get_result(), "%s(%s)" % (
            inner, ", ".join(params) if params else "void"),
            keep_top_qualifiers=True)
    if kind == TK.FUNCTIONNOPROTO:
        return declare(t.get_result(), inner + "()", keep_top_qualifiers=True)
    if kind in (TK.UNEXPOSED, TK.AUTO) and t.get_canonical().kind != kind:
        # typeof(expr) and __auto_type: the expression may name a local,
        # which the frame struct cannot see; the type it stands for can.
        return declare(t.get_canonical(), inner, keep_top_qualifiers)
    if kind in (TK.ELABORATED, TK.RECORD, TK.ENUM, TK.TYPEDEF):
        _check_named_type(t)
    base = t.spelling if keep_top_qualifiers else \
        _strip_leading_qualifiers(t.spelling)
    return (base + " " + inner).rstrip() if inner else base


def result_slot(t, name):
    """Declaration of @name as the result slot of a function returning
    @t.  A qualifier on the result type itself is dropped: a `const T`
    result is an rvalue, and the caller's slot is writable."""
    return declare(t, "*" + name)


def pointer_to(t, name):
    """Declaration of @name as a pointer to @t."""
    inner = "*" + name
    if t.kind in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY, TK.FUNCTIONPROTO,
                  TK.FUNCTIONNOPROTO):
        inner = "(" + inner + ")"
    return declare(t, inner, keep_top_qualifiers=True)


def array_element(t):
    """The element type when @t is an array type (a parameter declared as
    an array is a pointer to its element), else None."""
    if t.kind in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY, TK.VARIABLEARRAY):
        return t.element_type
    return None


def declare_parameter(t, name):
    element = array_element(t)
    if element is not None:
        return pointer_to(element, name)
    if t.kind == TK.FUNCTIONPROTO:
        return pointer_to(t, name)
    return declare(t, name)


def has_const(t):
    """True when an object of type @t cannot be assigned as a whole: it is
    const itself (perhaps through a typedef) or has a const member, at any
    depth.  Such frame fields are filled with a byte copy instead."""
    return _has_const(t.get_canonical(), set())


def _has_const(t, seen):
    if t.is_const_qualified():
        return True
    kind = t.kind
    if kind in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY):
        return _has_const(t.element_type.get_canonical(), seen)
    if kind != TK.RECORD:
        return False
    decl = t.get_declaration()
    key = decl.hash
    if key in seen:
        return False
    seen.add(key)
    return any(_has_const(f.type.get_canonical(), seen)
               for f in t.get_fields())


def store(lhs, t):
    """(before, after): the text around an expression to store it into
    lvalue @lhs of type @t (None: assignable), as one statement.  An assignment, or a byte
    copy when @t has a const part; the copy goes through a compound
    literal of @lhs's own type, so the value converts as it would in an
    initialisation."""
    if t is None or not has_const(t):
        return "%s = " % lhs, ";"
    return ("__builtin_memcpy((void *)&%s, (__typeof__(%s)[1]){ " % (lhs, lhs),
            " }, sizeof %s);" % lhs)


def is_void(t):
    return t.get_canonical().kind == TK.VOID
