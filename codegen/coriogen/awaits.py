# SPDX-License-Identifier: MIT
"""Await sites: which call each `await` applies to, and where in an
expression an await may stand (the Analyzer mixes these rules in)."""

from .declarator import is_void
from .model import AWAIT_WORDS, Await, Callee, Sequenced
from .parse import (async_function_type, call_callee, callee_name, ci,
                    function_type_of, in_main_file, spelling_offset)
from .source import for_parts, operator_between

CK = None if ci is None else ci.CursorKind


class AwaitRules:
    """Methods of Analyzer about await sites."""

    def _await_token_end(self, offset):
        return self._inst_end.get(offset, offset)

    def _resolve_await(self, fn, token, pos, chain):
        """Find the call an await keyword applies to and check its context.

        `await` is an empty macro, so `await f(x) + 1` parses as
        `f(x) + 1`: every expression starting where the await's operand
        starts is a candidate.  Binary and conditional operators starting
        there are outside the await (a prefix operator binds tighter);
        the first other expression must be the call, possibly in parens.
        """
        where = self.pos(token)
        index = 0
        while index < len(chain) and chain[index][0].kind in (
                CK.BINARY_OPERATOR, CK.COMPOUND_ASSIGNMENT_OPERATOR,
                CK.CONDITIONAL_OPERATOR, CK.UNEXPOSED_EXPR):
            index += 1
        outer_end = None
        call = None
        ancestors = None
        while index < len(chain):
            node, stack = chain[index]
            if node.kind == CK.PAREN_EXPR:
                if outer_end is None:
                    outer_end = node.extent.end.offset
            elif node.kind == CK.CALL_EXPR:
                call, ancestors = node, stack
                break
            elif node.kind != CK.UNEXPOSED_EXPR:
                break
            index += 1
        if call is None:
            if self._inside_macro_argument(pos):
                self.sink.error(where, "await inside a macro argument; "
                                "await outside the macro call",
                                "corio-await-in-macro")
            else:
                self.sink.error(where, "await needs a call of an async "
                                "function or corio operation right after it",
                                "corio-await-target")
            return
        if outer_end is None:
            outer_end = call.extent.end.offset
        elif outer_end < call.extent.end.offset:
            outer_end = call.extent.end.offset
        name = callee_name(call)
        n_args = len(list(call.get_arguments()))
        callee = self.callee(name, n_args) if name else None
        pointer = None
        if name is None:
            target = call_callee(call)
            typedef = async_function_type(target.type) if target else None
            if typedef is not None and not in_main_file(typedef,
                                                        self.source):
                self.sink.error(where, "async function type '%s' is declared "
                                "in another file; coriogen turns it into the "
                                "start functions' type only in the file it "
                                "transforms" % typedef.spelling,
                                "corio-await-target")
                return
            if typedef is not None:
                result = function_type_of(typedef).get_result()
                callee = Callee(None, None if is_void(result) else result,
                                True)
                pointer = (target.extent.start.offset,
                           target.extent.end.offset)
            elif target is not None:
                self.sink.error(where, "call through an expression of type "
                                "'%s', which is not an async function type; "
                                "declare one with `typedef async T "
                                "name(params);`" % target.type.spelling,
                                "corio-await-target")
                return
        if callee is None and name in self.start_decls:
            self.sink.error(where, "%s__start does not match a call of '%s' "
                            "with %d argument%s" % (name, name, n_args,
                                                    "" if n_args == 1
                                                    else "s"),
                            "corio-await-target")
            return
        if callee is None:
            what = "'%s'" % name if name else "this expression"
            self.sink.error(where, "%s is not awaitable: declare it async, "
                            "or provide %s__start" % (what, name or "NAME"),
                            "corio-await-target")
            return
        if self._in_cleanup(fn, call):
            self.sink.error(where, "await inside the cleanup section",
                            "corio-cleanup")
            return
        if not self._check_context(fn, call, ancestors, where):
            return
        a = Await(token, self._await_token_end(token), call, outer_end,
                  callee, len(fn.awaits) + 1)
        a.pointer = pointer
        a.discarded = value_discarded(self.source, call, ancestors)
        a.scope = statement_scope(ancestors, call)
        fn.awaits.append(a)

    def _check_context(self, fn, call, ancestors, where):
        """Reject awaits C never evaluates; note the operators that
        evaluate an await's operand conditionally or in a fixed order
        (&&, ||, ?:, the comma), which lowering then spells out as ifs."""
        src = self.source
        if any(node.kind == CK.StmtExpr for node in ancestors):
            self.sink.error(where, "await inside a statement expression "
                            "({ ... })", "corio-await-context")
            return False
        inner = call
        for node in reversed(ancestors):
            kind = node.kind
            if kind == CK.BINARY_OPERATOR:
                kids = list(node.get_children())
                if len(kids) == 2 and inner == kids[1]:
                    op = operator_between(src, kids[0], kids[1])
                    if op in ("&&", "||", ","):
                        self._note_sequenced(fn, node, op, ancestors)
            elif kind == CK.CONDITIONAL_OPERATOR:
                kids = list(node.get_children())
                if len(kids) != 3:
                    self.sink.error(where, "await in a '?:' without a "
                                    "middle operand", "corio-await-context")
                    return False
                if inner != kids[0]:
                    self._note_sequenced(fn, node, "?:", ancestors)
            elif kind == CK.UNEXPOSED_EXPR:
                # Implicit conversions have one operand; several mean a
                # construct libclang 14 does not expose (GNU `a ?: b`, a
                # builtin choice): its evaluation order is unknown here.
                kids = list(node.get_children())
                if len(kids) > 1 and inner == kids[-1] and \
                        self._designated(node, ancestors):
                    pass    # `.y = await f()`, `[1] = await f()`
                elif len(kids) > 1 and inner != kids[0]:
                    self.sink.error(where, "await inside an expression "
                                    "coriogen cannot see into (GNU 'a ?: "
                                    "b'?); use an if statement",
                                    "corio-await-context")
                    return False
            elif kind == CK.GENERIC_SELECTION_EXPR:
                self.sink.error(where, "await inside _Generic: only one "
                                "association is evaluated",
                                "corio-await-context")
                return False
            elif kind == CK.CXX_UNARY_EXPR:
                self.sink.error(where, "await inside sizeof or _Alignof is "
                                "never evaluated", "corio-await-context")
                return False
            elif not kind.is_expression():
                break
            inner = node
        return True

    def _designated(self, node, ancestors):
        """True when UNEXPOSED_EXPR @node is a designated initialiser in
        an initialiser list: its designators are constants, and C leaves
        the order of the list's elements unspecified."""
        i = len(ancestors) - 1
        while i >= 0 and ancestors[i] != node:
            i -= 1
        if i < 1 or ancestors[i - 1].kind != CK.INIT_LIST_EXPR:
            return False
        first = self.source.slice(node.extent.start.offset,
                                  node.extent.start.offset + 1)
        return first in (".", "[")

    def _note_sequenced(self, fn, node, op, ancestors):
        key = (node.extent.start.offset, node.extent.end.offset)
        if key in fn.sequenced:
            return
        i = len(ancestors) - 1
        while i >= 0 and ancestors[i] != node:
            i -= 1
        # A value nobody reads needs no field, and storing it into one
        # would leave a statement with no effect behind.
        # (&& and || keep theirs: it holds the left operand's truth.)
        temp_needed = op in ("&&", "||") or (
            not is_void(node.type) and
            not value_discarded(self.source, node, ancestors[:i]))
        seq = fn.sequenced[key] = Sequenced(node, op, temp_needed)
        seq.scope = statement_scope(ancestors[:i], node)

    def _written_with_await(self, call):
        """True when an await keyword precedes the call in the text, or
        the call comes from a macro already reported for its await."""
        offset = call.extent.start.offset
        for start, end, name, _ in self.macro_insts:
            if start <= offset < end and name in self.bad_macros:
                return True
        data = self.source.data
        j = spelling_offset(call.location)
        # The location is the callee's name; step back over blanks and
        # opening parens to the word before it.
        while j > 0 and data[j - 1:j] in (b" ", b"\t", b"\n", b"\r", b"("):
            j -= 1
        for word in AWAIT_WORDS:
            w = word.encode()
            if data[j - len(w):j] == w and not (
                    data[j - len(w) - 1:j - len(w)].isalnum() or
                    data[j - len(w) - 1:j - len(w)] == b"_"):
                return True
        return False


def statement_scope(ancestors, node):
    """(start, end) of the statement of its block that contains @node: a
    value computed there is dead once that statement is done."""
    chain = list(ancestors) + [node]
    for i in range(len(chain) - 2, -1, -1):
        if chain[i].kind == CK.COMPOUND_STMT:
            ext = chain[i + 1].extent
            return ext.start.offset, ext.end.offset
    return None


def value_discarded(source, call, ancestors):
    """True when the value of @call (an awaited call, or an operator) is
    never read: a whole expression statement or for clause (perhaps in
    parens or cast to void), or the left operand of a comma.  Its result
    slot can be NULL."""
    node = call
    for parent in reversed(ancestors):
        if parent.kind == CK.BINARY_OPERATOR:
            kids = list(parent.get_children())
            return len(kids) == 2 and kids[0] == node and \
                operator_between(source, kids[0], kids[1]) == ","
        if parent.kind == CK.FOR_STMT:
            init, _, inc, _ = for_parts(source, parent)
            return node in (init, inc)
        if parent.kind in (CK.PAREN_EXPR, CK.UNEXPOSED_EXPR) or (
                parent.kind == CK.CSTYLE_CAST_EXPR and
                parent.type.kind == ci.TypeKind.VOID):
            node = parent
            continue
        if parent.kind in (CK.COMPOUND_STMT, CK.LABEL_STMT, CK.CASE_STMT,
                           CK.DEFAULT_STMT):
            return True
        if parent.kind == CK.IF_STMT:
            return next(parent.get_children()) != node
        return False
    return False
