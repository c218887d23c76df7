# SPDX-License-Identifier: MIT
"""Lowering: one async function becomes a frame struct, a start function
and a resume function whose body is the user's statements, rewritten.

The body is regenerated from the statement tree rather than patched in
place, so loops can be restructured around awaits in their conditions.
Expressions are copied from the source with edits applied (variables
become frame fields, awaits become their result fields), which keeps the
user's spelling, macros and line breaks.

Every await is spilled in front of its statement, in post-order.  C leaves
the order of evaluation of most operands unspecified, so this is a valid
order.  The operators that do fix an order (&&, ||, ?:, the comma) become
if statements when an await sits in an operand C may skip or must run
later, so an await runs exactly when C would evaluate it.
"""

import bisect
import re

from .declarator import (array_element, declare, declare_parameter,
                         has_const, is_void, result_slot, store)
from .layout import frame_layout, function_fields
from .model import AWAIT_WORDS, CLEANUP_LABEL, Closing
from .parse import call_arguments, ci
from .source import FALLTHROUGH, comments_before, for_parts

CK = None if ci is None else ci.CursorKind
TK = None if ci is None else ci.TypeKind


class Line:
    """One item for the emitter.

    kind "src": text (may span lines) belonging to source line @line;
    kind "gen": generated boilerplate, mapped to the output file itself;
    kind "float": punctuation with no code of its own (braces), appended
    to whatever line is open.
    """

    __slots__ = ("kind", "line", "text", "indent")

    def __init__(self, kind, line, text, indent=0):
        self.kind = kind
        self.line = line
        self.text = text
        self.indent = indent


class FunctionLowering:
    """Lowers one AsyncFunction; .out collects Line items for emit.py."""

    def __init__(self, fn, program):
        self.fn = fn
        self.program = program
        self.src = program.source
        self.out = []
        self.cont_stack = []            # continue target per loop
        self.labels = 0
        self.used_labels = set()        # continue labels some goto uses
        # `await` is an empty macro, so an expression that begins with an
        # await starts after the keyword: map operand starts back to it.
        self.operand_to_token = {}
        for a in fn.awaits:
            self.operand_to_token[self.src.skip_space(
                a.token_end)] = a.start
        sequenced = [SequencedUnit(seq, *self.range(seq.node))
                     for seq in fn.sequenced.values()]
        edits = list(fn.edits)
        for unit in fn.awaits + sequenced:
            span = self.src.slice(unit.start, unit.end)
            repl = "corio_self->" + unit.temp if unit.temp else "((void)0)"
            edits.append((unit.start, unit.end,
                          repl + "\n" * span.count("\n")))
        # Insertions (empty ranges) go before a replacement starting at
        # the same offset, so both apply.
        edits.sort(key=lambda e: (e[0], e[0] != e[1], -e[1]))
        self.edits = edits
        self.edit_starts = [e[0] for e in edits]
        # Post-order: an await's arguments (and so anything nested in
        # them) end before the await itself does.
        self.awaits = sorted(fn.awaits, key=lambda a: (a.end, -a.start))
        self.await_ends = [a.end for a in self.awaits]
        self.units = sorted(fn.awaits + sequenced,
                            key=lambda u: (u.end, -u.start))
        self.unit_ends = [u.end for u in self.units]
        self.depth = 1
        self.macro_calls_done = set()

    # ------------------------------------------------------------------
    # Text.

    def render(self, start, end):
        """Source text of [start, end) with the function's edits applied.

        Replacements are padded with the newlines they remove, so the
        result has as many lines as the source range.
        """
        out = []
        pos = start
        i = bisect.bisect_left(self.edit_starts, start)
        edits = self.edits
        while i < len(edits) and (edits[i][0] < end or (
                edits[i][0] == end and isinstance(edits[i][2], Closing))):
            s, e, text = edits[i]
            i += 1
            if s < pos or e > end:
                continue            # nested in one already applied
            out.append(self.src.slice(pos, s))
            out.append(text)
            pos = e
        out.append(self.src.slice(pos, end))
        return "".join(out)

    def line_of(self, offset):
        return self.src.line_of(offset)

    def range(self, node):
        """(start, end) of @node including an await keyword before it."""
        ext = node.extent
        start = ext.start.offset
        while start in self.operand_to_token:
            start = self.operand_to_token[start]
        return start, ext.end.offset

    def emit(self, line, text):
        self.out.append(Line("src", line, text, self.depth))

    def gen(self, text):
        self.out.append(Line("gen", None, text))

    def floating(self, text):
        self.out.append(Line("float", None, text))

    def piece(self, first_line, parts):
        """Emit literal strings and (start, end) source ranges as one item
        starting on @first_line, padding so ranges keep their lines."""
        text = []
        cur = first_line
        for part in parts:
            if isinstance(part, str):
                text.append(part)
                continue
            start, end = part
            line = self.line_of(start)
            if line > cur:
                text.append("\n" * (line - cur))
                cur = line
            rendered = self.render(start, end)
            text.append(rendered)
            cur += rendered.count("\n")
        self.emit(first_line, "".join(text))

    # ------------------------------------------------------------------
    # Awaits.

    def awaits_in(self, start, end):
        i = bisect.bisect_left(self.await_ends, start)
        found = []
        while i < len(self.awaits) and self.awaits[i].end <= end:
            if self.awaits[i].start >= start:
                found.append(self.awaits[i])
            i += 1
        return found

    def spill(self, start, end):
        """Emit, innermost first, every await and every sequenced operator
        in [start, end), except what a sequenced operator there contains:
        that runs inside the if statements it becomes."""
        i = bisect.bisect_left(self.unit_ends, start)
        units = []
        while i < len(self.units) and self.units[i].end <= end:
            if self.units[i].start >= start:
                units.append(self.units[i])
            i += 1
        outer = [u for u in units if isinstance(u, SequencedUnit)]
        for unit in units:
            if any(s is not unit and s.start <= unit.start and
                   unit.end <= s.end for s in outer):
                continue
            if isinstance(unit, SequencedUnit):
                self.sequenced(unit)
            else:
                self.await_step(unit)

    def await_step(self, a):
        """One await, in front of the statement that uses its result."""
        args = call_arguments(a.call)
        line = self.line_of(a.start)
        if a.pointer:
            # Through a pointer to a start function (an async typedef).
            parts = ["CORIO__GEN_AWAIT(%d, (" % a.index, a.pointer,
                     ")(&corio_self->hdr"]
        else:
            parts = ["CORIO__GEN_AWAIT(%d, %s(&corio_self->hdr"
                     % (a.index, a.callee.start_name)]
        if args:
            parts.append(", ")
            parts.append((self.range(args[0])[0],
                          args[-1].extent.end.offset))
        if a.temp:
            parts.append(", &corio_self->" + a.temp)
        elif a.callee.result_type is not None:
            parts.append(", NULL")          # result not used
        parts.append("));")
        self.piece(line, parts)

    def sequenced(self, unit):
        """&&, ||, ?: or a comma with an await in an operand C evaluates
        conditionally (or after another): spelled out as if statements
        that leave the operator's value in its frame field."""
        seq = unit.seq
        kids = list(seq.node.get_children())
        target = "corio_self->" + seq.temp if seq.temp else None
        line = self.line_of(unit.start)
        if seq.op in ("&&", "||"):
            a0, a1 = self.expr(kids[0])
            self.piece(self.line_of(a0), [target + " = (", (a0, a1),
                                          ") != 0;"])
            self.emit(line, "if (%s%s)" % ("" if seq.op == "&&" else "!",
                                           target))
            self.braced(lambda: self.value_into(kids[1], target, True))
        elif seq.op == "?:":
            c0, c1 = self.expr(kids[0])
            self.piece(self.line_of(c0), ["if (", (c0, c1), ")"])
            self.braced(lambda: self.value_into(kids[1], target))
            self.floating("else")
            self.braced(lambda: self.value_into(kids[2], target))
        else:   # the comma: left operand first, then the right one
            self.value_into(kids[0], None)
            self.value_into(kids[1], target)

    def value_into(self, node, target, truth=False):
        """Evaluate @node (awaits first) into @target, or for its effects
        when there is no target; @truth stores it as 0 or 1."""
        start, end = self.expr(node)
        line = self.line_of(start)
        if target is None:
            self.piece(line, ["(void)(", (start, end), ");"])
        elif truth:
            self.piece(line, [target + " = (", (start, end), ") != 0;"])
        else:
            before, after = store(target, node.type)
            self.piece(line, [before, (start, end), after])

    def braced(self, body):
        self.floating("{")
        self.depth += 1
        body()
        self.depth -= 1
        self.floating("}")

    def has_await(self, node):
        if node is None:
            return False
        return bool(self.awaits_in(*self.range(node)))

    def expr(self, node):
        """Spill @node's awaits; return the (start, end) of its text."""
        start, end = self.range(node)
        self.spill(start, end)
        return start, end

    # ------------------------------------------------------------------
    # The function.

    def lower(self):
        fn = self.fn
        name = fn.name
        frame = "struct %s__frame" % name
        self.gen("")
        self.gen(frame + " {")
        self.gen("\tstruct corio_frame hdr;")
        for line in frame_layout(frame_fields(fn),
                                 self.program.header_size)[0]:
            self.gen(line)
        self.gen("};")
        if fn.aligned:
            # alignas(N) on a local becomes the field's; the runtime's
            # frame allocator aligns to 16 bytes.
            self.gen("_Static_assert(_Alignof(%s) <= 16, \"%s: a local's "
                     "alignment exceeds the 16 bytes corio frames have\");"
                     % (frame, name))
        self.gen("")
        for callee in fn.callees_needing_proto:
            self.gen(start_prototype(callee.name, callee.decl, False) + ";")
        # Always declared first: -Wmissing-prototypes wants one before an
        # external definition, and recursion needs it anyway.
        self.gen(start_signature(fn.name, fn.is_static,
                                 self.start_params()) + ";")
        self.gen("static struct corio_frame *%s__resume(struct corio_frame "
                 "*corio_frame);" % name)
        # Designated: fields the runtime adds later stay zero.
        self.gen("static const struct corio_fninfo %s__info = {" % name)
        self.gen("\t.resume = %s__resume," % name)
        self.gen("\t.name = \"%s\"," % name)
        self.gen("\t.file = \"%s\"," % c_string(self.src.path))
        self.gen("\t.line = %d," % fn.cursor.location.line)
        self.gen("\t.frame_size = (uint32_t)sizeof(%s)," % frame)
        self.gen("};")
        self.gen("")
        self.lower_start()
        self.gen("")
        self.lower_resume()

    def start_params(self):
        fn = self.fn
        params = ["struct corio_frame *corio_parent"]
        params += [var.decl_text for var in fn.params]
        if fn.result_type is not None:
            params.append(result_slot(fn.result_type, "corio_result"))
        return params

    def lower_start(self):
        fn = self.fn
        self.gen(start_signature(fn.name, fn.is_static, self.start_params()))
        self.gen("{")
        self.gen("\tstruct %s__frame *corio_f = (struct %s__frame *)(void *)"
                 % (fn.name, fn.name))
        self.gen("\t\tcorio_frame_alloc(&%s__info, corio_parent);" % fn.name)
        self.gen("")
        self.gen("\tif (!corio_f)")
        self.gen("\t\treturn NULL;")
        for var in fn.params:
            t = var.type
            if array_element(t) is not None or t.kind == TK.FUNCTIONPROTO:
                t = None            # adjusted to a pointer: assignable
            before, after = store("corio_f->" + var.field, t)
            self.gen("\t%s%s%s" % (before, var.field, after))
        if fn.result_type is not None:
            self.gen("\tcorio_f->corio_result = corio_result;")
        self.gen("\treturn &corio_f->hdr;")
        self.gen("}")

    def lower_resume(self):
        fn = self.fn
        # The body runs inside NAME__resume: __func__ (and GCC's aliases,
        # which assert() uses) must still name the user's function.
        self.gen("#define __func__ \"%s\"" % fn.name)
        self.gen("#define __FUNCTION__ \"%s\"" % fn.name)
        # clang's __PRETTY_FUNCTION__ spells the signature in C too.
        self.gen("#ifdef __clang__")
        self.gen("#define __PRETTY_FUNCTION__ \"%s\"" % c_string(
            declare(fn.cursor.type, fn.name, keep_top_qualifiers=True)))
        self.gen("#else")
        self.gen("#define __PRETTY_FUNCTION__ \"%s\"" % fn.name)
        self.gen("#endif")
        self.gen("static struct corio_frame *%s__resume(struct corio_frame "
                 "*corio_frame)" % fn.name)
        self.gen("{")
        self.gen("\tstruct %s__frame *corio_self = (struct %s__frame *)"
                 "(void *)corio_frame;" % (fn.name, fn.name))
        if fn.awaits:
            self.gen("\tstruct corio_frame *corio_child;")
        self.gen("")
        self.gen("\tswitch (corio_self->hdr.state) {")
        self.gen("\tcase 0:")
        self.gen("\t\tbreak;")
        for a in fn.awaits:
            self.gen("\tcase %d:" % a.index)
            self.gen("\t\tgoto corio_resume_%d;" % a.index)
        self.gen("\tcase CORIO_STATE_UNWIND:")
        self.gen("\t\tgoto corio_finally;")
        self.gen("\tdefault:")
        self.gen("\t\tcorio_frame_misuse(&corio_self->hdr, "
                 "\"invalid resume state\");")
        self.gen("\t\treturn NULL;")
        self.gen("\t}")
        cleanup = []
        in_cleanup = False
        for child in fn.body.get_children():
            if child is fn.cleanup_label or (
                    fn.cleanup_label is not None and
                    child == fn.cleanup_label):
                in_cleanup = True
            if in_cleanup:
                cleanup.append(child)
            else:
                self.stmt(child)
        # Reached by falling off the body, by every return (after storing
        # the result) and, through the dispatch, when unwinding.
        self.gen("corio_finally:")
        self.gen("\tcorio_self->hdr.flags |= CORIO_FRAME_FINALLY;")
        for child in cleanup:
            if child.kind == CK.LABEL_STMT and \
                    child.spelling == CLEANUP_LABEL:
                for sub in child.get_children():
                    self.stmt(sub)
            else:
                self.stmt(child)
        self.gen("\treturn NULL;")
        self.gen("}")
        for word in FUNC_NAMES:
            self.gen("#undef " + word)

    # ------------------------------------------------------------------
    # Statements.

    def stmt(self, node):
        kind = node.kind
        if node.extent.start.offset in self.fn.macro_stmts:
            self.macro_stmt(node)
            return
        handler = STATEMENTS.get(kind)
        if handler is not None:
            handler(self, node)
        elif kind.is_expression():
            self.expr_stmt(node)
        else:
            # Statements with nothing to lower (asm, ...): copied as is.
            ext = node.extent
            text = self.render(ext.start.offset, ext.end.offset)
            self.emit(self.line_of(ext.start.offset),
                      text if text.rstrip().endswith((";", "}")) else
                      text + ";")

    def macro_stmt(self, node):
        """A statement written as a macro call: copied as the call (the
        analysis made sure nothing in it needs lowering).  A macro that
        expands to several statements is copied once."""
        start, end = self.fn.macro_stmts[node.extent.start.offset]
        if (start, end) in self.macro_calls_done:
            return
        self.macro_calls_done.add((start, end))
        stop = max(end, node.extent.end.offset)
        text = self.render(start, stop)
        if node.extent.end.offset <= end:
            text += ";"
        self.emit(self.line_of(start), text)

    def sub(self, node):
        """A sub-statement of if/while/for/do/switch, always braced."""
        if node.kind == CK.COMPOUND_STMT:
            self.compound(node)
        else:
            self.floating("{")
            self.depth += 1
            self.stmt(node)
            self.depth -= 1
            self.floating("}")

    def compound(self, node):
        self.floating("{")
        self.depth += 1
        for child in node.get_children():
            self.stmt(child)
        self.depth -= 1
        self.floating("}")

    def expr_stmt(self, node):
        start, end = self.range(node)
        if start in self.fn.throws and self.fn.throws[start] == node:
            self.throw(node)
            return
        self.spill(start, end)
        text = self.render(start, end).strip()
        if text == "((void)0)" or JUST_A_RESULT.fullmatch(text):
            return      # just an await, or an operator lowered around one
        self.piece(self.line_of(start), [(start, end), ";"])

    def throw(self, node):
        args = call_arguments(node)
        start, end = self.range(node)
        if args:
            self.spill(start, end)
            self.piece(self.line_of(start), [
                "corio_self->hdr.err = (int32_t)(",
                (self.range(args[0])[0], args[-1].extent.end.offset),
                "); goto corio_finally;"])
        else:
            self.emit(self.line_of(start), "goto corio_finally;")

    def decl_stmt(self, node):
        hoisted = [c for c in node.get_children()
                   if c.kind == CK.VAR_DECL and
                   var_of(self.fn, c) is not None]
        if not hoisted:
            ext = node.extent
            self.emit(self.line_of(ext.start.offset),
                      self.render(ext.start.offset, ext.end.offset))
            return
        for var_cursor in hoisted:
            init = initializer(self.src, var_cursor)
            if init is None:
                continue
            self.assign(var_of(self.fn, var_cursor), init)

    def assign(self, var, init):
        start, end = self.expr(init)
        line = self.line_of(start)
        field = "corio_self->" + var.field
        canonical = var.type.get_canonical().kind
        braced = init.kind == CK.INIT_LIST_EXPR
        literal_type = declare(var.type, "")
        if canonical in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY):
            # Arrays cannot be assigned: copy from a compound literal.
            open_, close = ("", "") if braced else ("{", "}")
            self.piece(line, ["__builtin_memcpy((void *)%s, (%s)%s" % (
                field, literal_type, open_), (start, end),
                "%s, sizeof %s);" % (close, field)])
        elif braced and not has_const(var.type):
            self.piece(line, ["%s = (%s)" % (field, literal_type),
                              (start, end), ";"])
        else:
            before, after = store(field, var.type)
            self.piece(line, [before, (start, end), after])

    def return_stmt(self, node):
        kids = list(node.get_children())
        line = self.line_of(node.extent.start.offset)
        if not kids:
            self.emit(line, "goto corio_finally;")
            return
        start, end = self.expr(kids[0])
        if self.fn.result_type is None:
            # `return f();` where f returns void: keep the evaluation.
            self.piece(line, [(start, end), "; goto corio_finally;"])
            return
        before, after = store("*corio_self->corio_result",
                              self.fn.result_type)
        self.piece(line, ["if (corio_self->corio_result) " + before,
                          (start, end), after + " goto corio_finally;"])

    def if_stmt(self, node):
        kids = list(node.get_children())
        cond, then = kids[0], kids[1]
        start, end = self.expr(cond)
        self.piece(self.line_of(node.extent.start.offset),
                   ["if (", (start, end), ")"])
        self.sub(then)
        if len(kids) > 2:
            self.floating("else")
            self.sub(kids[2])

    def while_stmt(self, node):
        cond, body = list(node.get_children())
        line = self.line_of(node.extent.start.offset)
        c0, c1 = self.range(cond)
        self.cont_stack.append(None)
        if not self.has_await(cond):
            self.piece(line, ["while (", (c0, c1), ")"])
            self.sub(body)
        else:
            # for (;;) { awaits; if (!cond) break; body }: `continue`
            # re-evaluates the condition, awaits included.
            self.emit(line, "for (;;)")
            self.floating("{")
            self.spill(c0, c1)
            self.piece(self.line_of(c0), ["if (!(", (c0, c1), ")) break;"])
            self.sub(body)
            self.floating("}")
        self.cont_stack.pop()

    def do_stmt(self, node):
        body, cond = list(node.get_children())
        line = self.line_of(node.extent.start.offset)
        c0, c1 = self.range(cond)
        if not self.has_await(cond):
            self.cont_stack.append(None)
            self.emit(line, "do")
            self.sub(body)
            self.piece(self.line_of(c0), ["while (", (c0, c1), ");"])
        else:
            label = self.new_label("continue")
            self.cont_stack.append(label)
            self.emit(line, "for (;;)")
            self.floating("{")
            self.sub(body)
            self.continue_label(label)
            self.spill(c0, c1)
            self.piece(self.line_of(c0), ["if (!(", (c0, c1), ")) break;"])
            self.floating("}")
        self.cont_stack.pop()

    def for_stmt(self, node):
        init, cond, inc, body = for_parts(self.src, node)
        line = self.line_of(node.extent.start.offset)
        cond_await = self.has_await(cond)
        inc_await = self.has_await(inc)
        local_init = init is not None and init.kind == CK.DECL_STMT and \
            not any(var_of(self.fn, c) for c in init.get_children())
        if local_init:
            # Its variables stay C locals (no await in the loop): they
            # keep the loop as their scope.
            parts = ["for (", self.range(init)]
        else:
            if init is not None:
                # Frame variables, or an expression: the init clause can
                # run as statements before the loop.
                self.stmt(init)
            parts = ["for (;"]
        if not cond_await and not inc_await:
            if cond is not None:
                parts += [" ", self.range(cond)]
            parts.append(";")
            if inc is not None:
                parts += [" ", self.range(inc)]
            parts.append(")")
            self.cont_stack.append(None)
            self.piece(line, parts)
            self.sub(body)
            self.cont_stack.pop()
            return
        label = self.new_label("continue") if inc_await else None
        self.cont_stack.append(label)
        if inc is not None and not inc_await:
            self.piece(line, ["for (;; ", self.range(inc), ")"])
        else:
            self.emit(line, "for (;;)")
        self.floating("{")
        if cond is not None:
            c0, c1 = self.range(cond)
            self.spill(c0, c1)
            self.piece(self.line_of(c0), ["if (!(", (c0, c1), ")) break;"])
        self.sub(body)
        if inc_await:
            self.continue_label(label)
            self.expr_stmt(inc)
        self.floating("}")
        self.cont_stack.pop()

    def switch_stmt(self, node):
        kids = list(node.get_children())
        cond, body = kids[0], kids[-1]
        start, end = self.expr(cond)
        self.piece(self.line_of(node.extent.start.offset),
                   ["switch (", (start, end), ")"])
        self.sub(body)

    def fallthrough(self, node):
        """Keep a `/* fall through */` comment's meaning: comments are not
        copied, so state it as the attribute gcc and clang both accept."""
        if FALLTHROUGH in comments_before(self.src, node.extent.start.offset):
            self.emit(self.line_of(node.extent.start.offset),
                      "__attribute__((fallthrough));")

    def case_stmt(self, node):
        kids = list(node.get_children())
        values, body = kids[:-1], kids[-1]
        self.fallthrough(node)
        self.piece(self.line_of(node.extent.start.offset), [
            "case ", (values[0].extent.start.offset,
                      values[-1].extent.end.offset), ":"])
        self.labelled(body)

    def default_stmt(self, node):
        kids = list(node.get_children())
        self.fallthrough(node)
        self.emit(self.line_of(node.extent.start.offset), "default:")
        self.labelled(kids[-1])

    def label_stmt(self, node):
        kids = list(node.get_children())
        self.emit(self.line_of(node.extent.start.offset),
                  node.spelling + ":")
        self.labelled(kids[-1])

    def labelled(self, body):
        """The statement after a label; a label needs one, even empty."""
        before = len(self.out)
        self.stmt(body)
        if len(self.out) == before:
            self.floating(";")

    def goto_stmt(self, node):
        ext = node.extent
        self.emit(self.line_of(ext.start.offset),
                  self.render(ext.start.offset, ext.end.offset) + ";")

    def break_stmt(self, node):
        self.emit(self.line_of(node.extent.start.offset), "break;")

    def continue_stmt(self, node):
        line = self.line_of(node.extent.start.offset)
        target = self.cont_stack[-1] if self.cont_stack else None
        if target:
            self.used_labels.add(target)
        self.emit(line, "goto %s;" % target if target else "continue;")

    def null_stmt(self, node):
        self.emit(self.line_of(node.extent.start.offset), ";")

    def continue_label(self, label):
        """Place a loop's continue label; the body is already lowered, so
        an unused one (a -Wunused-label error) is simply left out."""
        if label in self.used_labels:
            self.gen(label + ":;")

    def new_label(self, what):
        self.labels += 1
        return "corio_%s_%d" % (what, self.labels)


STATEMENTS = {} if ci is None else {
    CK.COMPOUND_STMT: FunctionLowering.compound,
    CK.DECL_STMT: FunctionLowering.decl_stmt,
    CK.RETURN_STMT: FunctionLowering.return_stmt,
    CK.IF_STMT: FunctionLowering.if_stmt,
    CK.WHILE_STMT: FunctionLowering.while_stmt,
    CK.DO_STMT: FunctionLowering.do_stmt,
    CK.FOR_STMT: FunctionLowering.for_stmt,
    CK.SWITCH_STMT: FunctionLowering.switch_stmt,
    CK.CASE_STMT: FunctionLowering.case_stmt,
    CK.DEFAULT_STMT: FunctionLowering.default_stmt,
    CK.LABEL_STMT: FunctionLowering.label_stmt,
    CK.GOTO_STMT: FunctionLowering.goto_stmt,
    CK.BREAK_STMT: FunctionLowering.break_stmt,
    CK.CONTINUE_STMT: FunctionLowering.continue_stmt,
    CK.NULL_STMT: FunctionLowering.null_stmt,
}


FUNC_NAMES = ("__func__", "__FUNCTION__", "__PRETTY_FUNCTION__")

# The text left of an expression statement that was one await or one
# sequenced operator (a temporary field, perhaps in parens).
JUST_A_RESULT = re.compile(r"\(*corio_self->corio_[tv]\d+\)*")


class SequencedUnit:
    """A Sequenced operator with its source range, await keyword
    included, so it sorts and nests with the awaits."""

    def __init__(self, seq, start, end):
        self.seq = seq
        self.start = start
        self.end = end
        self.temp = seq.temp


def var_of(fn, cursor):
    return fn.variable_for(cursor)


def initializer(source, var_cursor):
    """The initialiser of a VAR_DECL, or None.

    libclang lists array sizes and type references as children too; the
    initialiser is the last child, and only if an `=` precedes it.
    """
    kids = [c for c in var_cursor.get_children() if c.kind.is_expression()]
    if not kids:
        return None
    last = kids[-1]
    name_end = var_cursor.location.offset + len(var_cursor.spelling)
    between = source.slice(name_end, last.extent.start.offset).rstrip()
    for word in AWAIT_WORDS:        # `int r = await f();`
        if between.endswith(word):
            between = between[:-len(word)].rstrip()
    if between.endswith("=") and not between.endswith(("==", "<=", ">=",
                                                       "!=")):
        return last
    return None


def c_string(text):
    return text.replace("\\", "\\\\").replace("\"", "\\\"")


def frame_fields(fn):
    """The fields of @fn's frame after the header (layout.Field list)."""
    result = None
    if fn.result_type is not None:
        result = result_slot(fn.result_type, "corio_result")
    return function_fields(fn, result)


def start_signature(name, is_static, params):
    return "%sstruct corio_frame *%s__start(%s)" % (
        "static " if is_static else "", name, ", ".join(params))


def start_typedef(typedef):
    """`typedef async T name(A)` (or `(*name)(A)`) as the type of the
    start functions of such async functions."""
    from .parse import function_type_of
    fn_type = function_type_of(typedef)
    params = ["struct corio_frame *corio_parent"]
    params += [declare_parameter(a, "").rstrip()
               for a in fn_type.argument_types()]
    result = fn_type.get_result()
    if not is_void(result):
        params.append(result_slot(result, "corio_result"))
    name = typedef.spelling
    if typedef.underlying_typedef_type.get_canonical().kind == TK.POINTER:
        name = "(*%s)" % name
    return "typedef struct corio_frame *%s(%s)" % (name, ", ".join(params))


def start_prototype(name, decl, is_static):
    """Start function prototype for an async declaration @decl."""
    params = ["struct corio_frame *corio_parent"]
    for arg in decl.get_arguments():
        params.append(declare_parameter(arg.type, arg.spelling))
    result = decl.result_type
    if not is_void(result):
        params.append(result_slot(result, "corio_result"))
    return start_signature(name, is_static, params)


def lower_function(fn, program):
    lowering = FunctionLowering(fn, program)
    lowering.lower()
    return lowering.out
