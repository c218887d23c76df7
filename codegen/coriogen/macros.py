# SPDX-License-Identifier: MIT
"""Macros in async functions: awaits hidden in macro bodies, statements
written as macro calls (copied as written, so nothing in them may need
lowering), and macro calls around await sites (the Analyzer mixes these
rules in)."""

import bisect

from .model import ASYNC_WORDS, AWAIT_WORDS
from .parse import ci, walk
from .source import for_parts

CK = None if ci is None else ci.CursorKind


class MacroRules:
    """Methods of Analyzer about macros."""

    def _check_macro_definition(self, cursor):
        if cursor.spelling in AWAIT_WORDS + ASYNC_WORDS:
            return
        for token in cursor.get_tokens():
            if token.spelling in AWAIT_WORDS and \
                    token.extent.start.offset != cursor.extent.start.offset:
                self.bad_macros[cursor.spelling] = (cursor, token)
                return

    def _check_macro_uses(self):
        for start, _, name, _ in self.macro_insts:
            if name in self.bad_macros:
                _, token = self.bad_macros[name]
                self.sink.error(self.pos(start), "await hidden inside "
                                "macro '%s'; write the await at the call "
                                "site" % name, "corio-await-in-macro")
                self.sink.note(token.location, "the macro's await is here")

    def _macro_at(self, offset):
        """(start, end) of the user macro call covering @offset, or None.

        Calls are sorted by start; one covering @offset starts at most
        the longest call's length before it, which bounds the scan."""
        insts = self.macro_insts
        i = bisect.bisect_right(self._inst_starts, offset) - 1
        found = None
        while i >= 0 and insts[i][0] >= offset - self._longest_inst:
            start, end, name, _ = insts[i]
            if start <= offset < end and name not in AWAIT_WORDS + \
                    ASYNC_WORDS:
                found = (start, end)    # keep going: the outermost wins
            i -= 1
        return found

    def _inside_macro_argument(self, offset):
        for start, end, name, _ in self.macro_insts:
            if start <= offset < end and name not in AWAIT_WORDS:
                return True
            if start > offset:
                break
        return False

    def _is_macro_name_at(self, offset):
        return offset in self._inst_end

    def _inst_name(self, offset):
        for start, _, name, _ in self.macro_insts:
            if start == offset:
                return name
        return "?"

    def _check_macro_statements(self, fn):
        """Statements a macro expands to are copied as the macro call, so
        they must not need lowering: no await in them, no declaration
        that outlives them, no return, no continue of a rewritten loop."""
        lo = fn.body.extent.start.offset
        hi = fn.body.extent.end.offset
        i = bisect.bisect_left(self._inst_starts, lo)
        if not any(name not in AWAIT_WORDS + ASYNC_WORDS
                   for _, _, name, _ in self.macro_insts[
                       i:bisect.bisect_left(self._inst_starts, hi)]):
            return      # no macro call in the body: nothing to check

        def visit(node, stack):
            kind = node.kind
            if kind.is_expression():
                if not stack or not is_statement_position(node, stack[-1]):
                    return True
            elif not kind.is_statement():
                return True
            inst = self._macro_at(node.extent.start.offset)
            if inst is None:
                return True
            if kind.is_expression() and node.extent.end.offset > inst[1]:
                return True     # e.g. MAX(a, b) + await f(): lowered
            if kind == CK.DECL_STMT and node.extent.end.offset > inst[1] \
                    and not self._declares_inside(node, inst):
                # `bool b = ...;`, `U32 n;`, `alignas(16) char buf[16];`,
                # `static_assert(...)`: the macro spells a type or a
                # specifier only; the declaration is the user's own.
                return True
            fn.macro_stmts[node.extent.start.offset] = inst
            self._check_macro_statement(fn, node, inst, stack)
            return False
        walk(fn.body, visit, [])

    def _declares_inside(self, decl_stmt, inst):
        """True when a variable of @decl_stmt is named inside the macro
        call @inst (the macro declares it), not after it."""
        return any(c.kind == CK.VAR_DECL and
                   inst[0] <= c.location.offset < inst[1]
                   for c in decl_stmt.get_children())

    def _check_macro_statement(self, fn, node, inst, stack):
        name = self._inst_name(inst[0])
        end = max(inst[1], node.extent.end.offset)
        where = self.pos(inst[0])
        if any(inst[0] <= off < end for off in self.await_tokens):
            self.sink.error(where, "await inside a statement built by macro "
                            "'%s'; write the statement without the macro"
                            % name, "corio-macro-control")
            return
        if node.kind == CK.DECL_STMT:
            self.sink.error(where, "macro '%s' declares a variable of the "
                            "async function; declare it directly so it "
                            "lives in the frame" % name, "corio-macro-local")
            return
        loop = next((s for s in reversed(stack) if s.kind in (
            CK.FOR_STMT, CK.WHILE_STMT, CK.DO_STMT)), None)

        def visit(inner, inner_stack):
            if inner.kind == CK.RETURN_STMT:
                self.sink.error(where, "macro '%s' expands to a return; in "
                                "an async function return must be written "
                                "out" % name, "corio-macro-control")
            elif inner.kind == CK.CONTINUE_STMT and loop is not None and \
                    not any(s.kind in (CK.FOR_STMT, CK.WHILE_STMT,
                                       CK.DO_STMT) for s in inner_stack) \
                    and self._loop_has_continue_label(loop):
                self.sink.error(where, "macro '%s' expands to a continue of "
                                "a loop whose condition or increment "
                                "awaits; write it out" % name,
                                "corio-macro-control")
        walk(node, visit, [])

    def _loop_has_continue_label(self, loop):
        """Whether lowering gives @loop a continue label (an await in a
        do-while condition or a for increment)."""
        if loop.kind == CK.DO_STMT:
            body = next(loop.get_children())
            lo, hi = body.extent.end.offset, loop.extent.end.offset
        elif loop.kind == CK.FOR_STMT:
            _, _, _, _, (_, semi2, close) = for_parts(self.source, loop, True)
            lo, hi = semi2, close
        else:
            return False
        return any(lo <= off < hi for off in self.await_tokens)


def is_statement_position(node, parent):
    """True when expression @node is a statement of its own in @parent."""
    kind = parent.kind
    if kind in (CK.COMPOUND_STMT, CK.LABEL_STMT, CK.DEFAULT_STMT):
        return True
    kids = list(parent.get_children())
    if kind in (CK.CASE_STMT, CK.WHILE_STMT, CK.SWITCH_STMT, CK.FOR_STMT):
        return kids[-1] == node
    if kind == CK.DO_STMT:
        return kids[0] == node
    if kind == CK.IF_STMT:
        return kids[0] != node
    return False
