# SPDX-License-Identifier: MIT
"""Analysis: which functions are async, what each await calls, which
variables live in the frame, and every rule the input breaks (reported
all at once).  Await and macro rules live in awaits.py and macros.py.

The result is a model.Program: plain data the lowering turns into C.
"""

import bisect

from .awaits import AwaitRules
from .declarator import TypeProblem, declare, declare_parameter, is_void
from .diagnostics import DiagnosticSink
from .macros import MacroRules
from .model import (AWAIT_WORDS, CLEANUP_LABEL, FRAME_ERROR_NAME,
                    RESERVED_FIELDS, THROW_NAME, AsyncFunction, Callee,
                    Closing,
                    Program, Variable)
from .parse import (async_function_type, call_callee, callee_name, ci,
                    function_type_of, in_main_file, is_async_decl,
                    spelling_offset, walk)
from .source import Position

CK = None if ci is None else ci.CursorKind

ALLOCA_NAMES = {"alloca", "__builtin_alloca", "__builtin_alloca_with_align"}
SETJMP_NAMES = {"setjmp", "_setjmp", "__setjmp", "sigsetjmp", "__sigsetjmp",
                "longjmp", "_longjmp", "siglongjmp", "__builtin_setjmp",
                "__builtin_longjmp"}


class Analyzer(AwaitRules, MacroRules):
    def __init__(self, tu, source, sink=None):
        self.tu = tu
        self.source = source
        self.sink = sink or DiagnosticSink(self._path_for)
        self.program = Program(source)
        self.annotated = {}         # name -> FUNCTION_DECL (any file)
        self.start_decls = {}       # NAME -> NAME__start FUNCTION_DECL
        self.macro_insts = []       # (start, end, name, cursor), main file
        self.await_tokens = []      # offsets of await keywords
        self.bad_macros = {}        # name -> definition cursor

    def _path_for(self, location):
        name = location.file if isinstance(location.file, str) else (
            location.file.name if location.file else self.source.path)
        return self.source.path if name == self.source.path else name

    def pos(self, offset):
        return Position(self.source, offset)

    # ------------------------------------------------------------------
    # Pass 1: declarations and macros.

    def collect(self):
        src = self.source
        for cursor in self.tu.cursor.get_children():
            kind = cursor.kind
            if kind == CK.FUNCTION_DECL:
                name = cursor.spelling
                if name.endswith("__start"):
                    self.start_decls.setdefault(name[:-7], cursor)
                if is_async_decl(cursor):
                    self.annotated.setdefault(name, cursor)
                    if in_main_file(cursor, src):
                        if cursor.is_definition():
                            self.program.functions.append(
                                AsyncFunction(cursor))
                        else:
                            self.program.prototypes.append(cursor)
            elif kind == CK.TYPEDEF_DECL and in_main_file(cursor, src) and \
                    is_async_decl(cursor):
                self._async_typedef(cursor)
            elif kind == CK.STRUCT_DECL and cursor.spelling == "corio_frame" \
                    and cursor.is_definition():
                self.program.header_size = cursor.type.get_size()
            elif not in_main_file(cursor, src):
                continue
            elif kind == CK.MACRO_INSTANTIATION:
                ext = cursor.extent
                self.macro_insts.append((ext.start.offset, ext.end.offset,
                                         cursor.spelling, cursor))
                if cursor.spelling in AWAIT_WORDS:
                    self.await_tokens.append(ext.start.offset)
            elif kind == CK.MACRO_DEFINITION:
                self._check_macro_definition(cursor)
            elif kind == CK.INCLUSION_DIRECTIVE:
                ext = cursor.extent
                self.program.includes.append((ext.start.offset,
                                              ext.end.offset,
                                              cursor.spelling))
        self.macro_insts.sort(key=lambda inst: inst[:2])
        self._inst_end = {start: end for start, end, _, _ in self.macro_insts}
        self._inst_starts = [inst[0] for inst in self.macro_insts]
        self._longest_inst = max((end - start for start, end, _, _ in
                                  self.macro_insts), default=0)


    def _async_typedef(self, cursor):
        t = function_type_of(cursor)
        if t.kind != ci.TypeKind.FUNCTIONPROTO:
            self.sink.error(cursor.location, "async type '%s' is not a "
                            "function type with a prototype (or a pointer "
                            "to one)" % cursor.spelling, "corio-async-type")
        elif t.is_function_variadic():
            self.sink.error(cursor.location, "async function type '%s' is "
                            "variadic; a frame cannot hold a va_list of its "
                            "caller" % cursor.spelling, "corio-variadic")
        else:
            self.program.async_typedefs.append(cursor)

    def callee(self, name, n_args=None):
        """The Callee for an awaitable @name called with @n_args arguments,
        or None.  The argument count matters only for a function known by
        its NAME__start alone (e.g. written with the macro DSL and not
        declared async here): it tells whether there is a result slot."""
        decl = self.annotated.get(name)
        key = name if decl is not None else (name, n_args)
        if key in self.program.callees:
            return self.program.callees[key]
        start = self.start_decls.get(name)
        if decl is None and start is None:
            return None
        if start is not None:
            # The start function's last parameter is the result slot when
            # it has one parameter more than NAME's own (parent aside).
            params = list(start.type.argument_types())
            if decl is not None:
                n_args = len(list(decl.type.argument_types()))
            elif n_args is None or len(params) not in (n_args + 1,
                                                       n_args + 2):
                return None
            has_result = len(params) == n_args + 2
            result = params[-1].get_pointee() if has_result else None
        else:
            result = decl.result_type
            result = None if is_void(result) else result
        callee = Callee(name, result, start is not None)
        callee.decl = decl
        self.program.callees[key] = callee
        return callee

    # ------------------------------------------------------------------
    # Pass 2: every function body in the main file.

    def check_bodies(self):
        src = self.source
        await_positions = {src.skip_space(self._await_token_end(off)): off
                           for off in self.await_tokens}
        self._await_positions = await_positions
        claimed = set()     # await tokens attached to an async function
        for fn in self.program.functions:
            self._analyze_function(fn, claimed)
        # Calls of async functions outside async functions, and awaits
        # that no async function claimed.
        for cursor in self.tu.cursor.get_children():
            if cursor.kind == CK.VAR_DECL and in_main_file(cursor, src):
                walk(cursor, self._visit_sync_function, [])
            if cursor.kind != CK.FUNCTION_DECL or \
                    not cursor.is_definition() or \
                    not in_main_file(cursor, src) or is_async_decl(cursor):
                continue
            walk(cursor, self._visit_sync_function, [])
        for off in self.await_tokens:
            if off not in claimed:
                self.sink.error(self.pos(off), "await outside an async "
                                "function", "corio-await-outside")
        self._check_macro_uses()


    def _visit_sync_function(self, cursor, stack):
        if cursor.kind == CK.CALL_EXPR:
            name = callee_name(cursor)
            if name in (THROW_NAME, FRAME_ERROR_NAME):
                self.sink.error(cursor.location, "%s outside an async "
                                "function" % name, "corio-throw-context")
            elif name in self.annotated:
                self._unawaited(cursor, name)
            elif name is None:
                self._unawaited_pointer(cursor)
        elif cursor.kind == CK.DECL_REF_EXPR:
            edit = self._function_value(cursor, stack)
            if edit:
                self.program.edits.append(edit)

    def _function_value(self, ref, stack):
        """The edit naming NAME__start for a use of async function NAME as
        a value (`handler = NAME`, `&NAME`, in a table), or None.  What an
        async function type points to is a start function."""
        target = ref.referenced
        if target is None or target.kind != CK.FUNCTION_DECL or \
                target.spelling not in self.annotated:
            return None
        node = ref
        i = len(stack) - 1
        while i >= 0 and stack[i].kind in (CK.UNEXPOSED_EXPR,
                                           CK.PAREN_EXPR):
            node = stack[i]
            i -= 1
        if i >= 0 and stack[i].kind == CK.CALL_EXPR and \
                call_callee(stack[i]) == node:
            return None             # a call: awaited, or reported
        start, end = ref.extent.start.offset, ref.extent.end.offset
        if self.source.slice(start, end) != target.spelling:
            return None             # spelled by a macro: left alone
        return start, end, target.spelling + "__start"

    def _unawaited_pointer(self, call):
        callee = call_callee(call)
        if callee is not None and async_function_type(callee.type) and \
                not self._written_with_await(call):
            self.sink.error(call.location, "call through a pointer to an "
                            "async function type without await",
                            "corio-unawaited-call")

    def _unawaited(self, cursor, name):
        if self._written_with_await(cursor):
            return      # its await was rejected, with its own message
        self.sink.error(cursor.location, "async function '%s' called "
                        "without await; await it, or spawn "
                        "%s__start(NULL, ...) as a task" % (name, name),
                        "corio-unawaited-call")


    def _analyze_function(self, fn, claimed):
        cursor = fn.cursor
        if cursor.type.kind == ci.TypeKind.FUNCTIONPROTO and \
                cursor.type.is_function_variadic():
            self.sink.error(cursor.location, "async function '%s' is "
                            "variadic; a frame cannot hold a va_list of "
                            "its caller" % fn.name, "corio-variadic")
        for child in cursor.get_children():
            if child.kind == CK.PARM_DECL:
                self._add_variable(fn, child, True)
            elif child.kind == CK.COMPOUND_STMT:
                fn.body = child
        body = fn.body
        lo, hi = body.extent.start.offset, body.extent.end.offset
        self._find_cleanup(fn)
        expr_at = {}        # await position -> [(cursor, ancestors)]
        refs = []           # (DECL_REF_EXPR, unary operator over it)
        values = []         # edits: async functions used as values
        calls = []          # (CALL_EXPR, ancestors)
        literals = []       # (COMPOUND_LITERAL_EXPR, ancestors)
        candidates = []     # (VAR_DECL, ancestors) of possible frame locals
        labels = []         # offsets of the labels in the body
        positions = self._await_positions

        def visit(node, stack):
            kind = node.kind
            if kind == CK.VAR_DECL:
                # Variables of a statement expression never see an await
                # (rejected below), so they stay ordinary C locals.
                # So do variables a macro declares inside its own block.
                if node.storage_class not in (ci.StorageClass.STATIC,
                                              ci.StorageClass.EXTERN) and \
                        not any(s.kind == CK.StmtExpr for s in stack) and \
                        self._macro_at(node.location.offset) is None:
                    candidates.append((node, list(stack)))
            elif kind == CK.DECL_REF_EXPR:
                refs.append((node, _unary_over(stack)))
                edit = self._function_value(node, stack)
                if edit:
                    values.append(edit)
            elif kind == CK.CALL_EXPR:
                calls.append((node, list(stack)))
            elif kind == CK.COMPOUND_LITERAL_EXPR:
                literals.append((node, list(stack)))
            elif kind == CK.LABEL_STMT:
                labels.append(node.extent.start.offset)
            elif kind in (CK.INDIRECT_GOTO_STMT, CK.ADDR_LABEL_EXPR):
                self.sink.error(node.location, "computed goto in an async "
                                "function; resume points are goto labels "
                                "of their own", "corio-computed-goto")
            elif kind == CK.RETURN_STMT and self._in_cleanup(fn, node):
                self.sink.error(node.location, "return inside the cleanup "
                                "section", "corio-cleanup")
            if kind.is_expression() and \
                    node.extent.start.offset in positions:
                expr_at.setdefault(node.extent.start.offset, []).append(
                    (node, list(stack)))
            return True

        walk(body, visit, [])
        # Await sites, in source order.
        for pos in sorted(positions):
            token = positions[pos]
            if not lo <= token < hi:
                continue
            claimed.add(token)
            self._resolve_await(fn, token, pos, expr_at.get(pos, []))
        self._check_macro_statements(fn)
        self._place_locals(fn, candidates, labels)
        awaited_calls = {a.call.extent.start.offset: a for a in fn.awaits}
        for call, stack in calls:
            name = callee_name(call)
            if name in ALLOCA_NAMES:
                self.sink.error(call.location, "alloca in an async "
                                "function: its memory does not survive a "
                                "suspension", "corio-alloca")
            elif name in SETJMP_NAMES:
                self.sink.error(call.location, "%s in an async function: "
                                "a jump buffer cannot cross a suspension"
                                % name, "corio-setjmp")
            elif name == THROW_NAME:
                self._check_throw(fn, call, stack)
            elif name == FRAME_ERROR_NAME:
                fn.edits.append((call.extent.start.offset,
                                 call.extent.end.offset,
                                 "corio_self->hdr.err"))
            elif name is not None and name in self.annotated:
                a = awaited_calls.get(call.extent.start.offset)
                if a is None or a.call != call:
                    self._unawaited(call, name)
            elif name is None:
                a = awaited_calls.get(call.extent.start.offset)
                if a is None or a.call != call:
                    self._unawaited_pointer(call)
        fn.edits.extend(values)
        self._plan_references(fn, refs)
        self._plan_literals(fn, literals)

    def _place_locals(self, fn, candidates, labels):
        """Frame locals, and the locals that stay ordinary C locals of the
        resume function.

        A local must be in the frame when a suspension can fall inside its
        lifetime, which is its whole scope (block, or `for` statement for
        the init clause), not just the part after the declaration:
        - its scope contains an await after its declaration;
        - or an await before it and a label before it: a `goto` back
          there and on past the declaration keeps the value in C;
        - or it is declared in the outermost block, there is a cleanup
          section, which the dispatch enters after a suspension, and
          the function awaits.
        Every other local is declared where it was written, address taken
        or not: no resume point lies inside its lifetime, so the C stack
        keeps it for as long as C says it lives.  The variables of one
        declaration go together."""
        tokens = sorted(self.await_tokens)
        labels = sorted(labels)
        cleanup = bool(fn.awaits) and fn.cleanup_label is not None
        for node, stack in candidates:
            decl_stmt = stack[-1]
            scope = next((a for a in reversed(stack) if a.kind in (
                CK.COMPOUND_STMT, CK.FOR_STMT)), fn.body)
            start = scope.extent.start.offset
            lo = decl_stmt.extent.start.offset
            hi = scope.extent.end.offset
            in_frame = (_any_in(tokens, lo, hi) or
                        (_any_in(tokens, start, lo) and
                         _any_in(labels, start, lo)) or
                        (cleanup and scope == fn.body))
            if in_frame:
                var = self._add_variable(fn, node, False)
                if var is not None:
                    var.scope = None if scope == fn.body else (
                        scope.extent.start.offset, hi)
                continue
            try:
                declare(node.type, node.spelling)
                fn.stack_locals.append(node.type)
            except TypeProblem as problem:
                if problem.ident == "corio-vla":
                    self.sink.error(node.location, problem.message,
                                    problem.ident)

    def _plan_literals(self, fn, literals):
        """Compound literals whose address may outlive a suspension.

        A literal lives until the end of its block; in the resume function
        that block is left at every suspension, so a pointer into a literal
        of a block with an await would dangle.  Such a literal gets a frame
        field, filled each time the literal is evaluated, and the
        expression becomes that field (still an lvalue of the literal's
        type).  Literals only read as values need nothing."""
        src = self.source
        tokens = sorted(self.await_tokens)
        for node, stack in literals:
            if any(s.kind == CK.StmtExpr for s in stack) or any(
                    s.kind == CK.VAR_DECL and s.storage_class in (
                        ci.StorageClass.STATIC, ci.StorageClass.EXTERN)
                    for s in stack):
                continue
            if not self._literal_address_used(node, stack):
                continue
            block = next((s for s in reversed(stack)
                          if s.kind == CK.COMPOUND_STMT), fn.body)
            lo, hi = block.extent.start.offset, block.extent.end.offset
            i = bisect.bisect_left(tokens, lo)
            if i == len(tokens) or tokens[i] >= hi:
                continue            # no suspension while it lives
            start, end = node.extent.start.offset, node.extent.end.offset
            text = src.slice(start, end)
            if not text.startswith("(") or not text.endswith("}") or \
                    self._macro_at(start) is not None:
                self.sink.error(node.location, "compound literal built by "
                                "a macro, whose address outlives an await "
                                "in its block; write the literal out, or "
                                "use a local", "corio-compound-literal")
                continue
            field = "corio_cl%d" % (len(fn.literals) + 1)
            try:
                decl = declare(node.type, field)
            except TypeProblem as problem:
                self.sink.error(node.location, problem.message,
                                problem.ident)
                continue
            fn.literals.append((field, decl, node.type, None
                                if block == fn.body else
                                (lo, hi)))
            ref = "corio_self->" + field
            fn.edits.append((start, start, "(*(__typeof__(%s) *)"
                             "__builtin_memcpy(&%s, &" % (ref, ref)))
            fn.edits.append((end, end, Closing(", sizeof %s))" % ref)))

    def _literal_address_used(self, node, stack):
        """True when the literal @node is used as an object, not only as a
        value: an array (it decays), or under & or a member access."""
        if node.type.get_canonical().kind in (ci.TypeKind.CONSTANTARRAY,
                                              ci.TypeKind.INCOMPLETEARRAY):
            return True
        for parent in reversed(stack):
            if parent.kind == CK.PAREN_EXPR:
                continue
            return parent.kind in (CK.UNARY_OPERATOR, CK.MEMBER_REF_EXPR,
                                   CK.ARRAY_SUBSCRIPT_EXPR)
        return False

    def _find_cleanup(self, fn):
        ext = fn.body.extent
        if CLEANUP_LABEL.encode() not in \
                self.source.data[ext.start.offset:ext.end.offset]:
            return              # the common case: no need to walk
        for child in fn.body.get_children():
            if child.kind == CK.LABEL_STMT and child.spelling == \
                    CLEANUP_LABEL:
                fn.cleanup_label = child
                return

        def visit(node, stack):
            if node.kind == CK.LABEL_STMT and \
                    node.spelling == CLEANUP_LABEL:
                self.sink.error(node.location, "the cleanup label "
                                "corio_finally: must be a statement of the "
                                "function's outermost block", "corio-cleanup")
        walk(fn.body, visit, [])

    def _in_cleanup(self, fn, node):
        label = fn.cleanup_label
        return label is not None and \
            node.extent.start.offset >= label.extent.start.offset and \
            node.extent.start.offset < fn.body.extent.end.offset

    def _check_throw(self, fn, call, stack):
        if self._in_cleanup(fn, call):
            self.sink.error(call.location, "corio_throw inside the cleanup "
                            "section", "corio-cleanup")
            return
        parent = stack[-1] if stack else None
        if parent is None or parent.kind not in (
                CK.COMPOUND_STMT, CK.IF_STMT, CK.WHILE_STMT, CK.FOR_STMT,
                CK.DO_STMT, CK.CASE_STMT, CK.DEFAULT_STMT, CK.LABEL_STMT,
                CK.SWITCH_STMT):
            self.sink.error(call.location, "corio_throw must be a statement "
                            "of its own", "corio-throw-context")
            return
        fn.throws[call.extent.start.offset] = call

    def _add_variable(self, fn, cursor, is_param):
        used = {v.field for v in fn.params + fn.locals} | RESERVED_FIELDS
        name = cursor.spelling or "corio_arg%d" % len(fn.params)
        field = name
        n = 1
        while field in used or field.startswith("corio_t"):
            field = "%s__%d" % (name, n)
            n += 1
        var = Variable(cursor, field, is_param)
        try:
            if is_param:
                var.decl_text = declare_parameter(cursor.type, field)
            else:
                var.decl_text = declare(cursor.type, field)
        except TypeProblem as problem:
            self.sink.error(cursor.location, problem.message, problem.ident)
            return
        align = self._alignment_specifier(cursor)
        if align:
            var.decl_text = align + " " + var.decl_text
            fn.aligned = True
        (fn.params if is_param else fn.locals).append(var)
        fn.add_variable(var)
        return var


    def _alignment_specifier(self, cursor):
        """The alignment a variable was declared with (`alignas(16)`,
        `_Alignas(T)`, `__attribute__((aligned(8)))`, a macro spelling
        one), as text a frame field can carry; None when there is none."""
        src = self.source
        for child in cursor.get_children():
            if child.kind != CK.ALIGNED_ATTR:
                continue
            start = child.extent.start.offset
            word = src.word_at(start)
            end = src.balanced_parens(start + len(word))
            if word in ("aligned", "__aligned__"):
                return "__attribute__((%s))" % src.slice(start, end)
            if word == "alignas":
                return "_Alignas" + src.slice(start + len(word), end)
            return src.slice(start, end)    # _Alignas(...) or a macro
        return None

    # ------------------------------------------------------------------
    # References to frame variables.

    def _plan_references(self, fn, refs):
        """Edits that turn each use of a hoisted variable into a field."""
        src = self.source
        seen = set()
        for ref, unary in refs:
            target = ref.referenced
            if target is None:
                continue
            var = fn.variable_for(target)
            if var is None:
                continue
            start = ref.extent.start.offset
            end = ref.extent.end.offset
            name = var.name
            if src.slice(start, end) != name:
                # Produced by a macro: rewrite inside the argument text, or
                # refuse when the macro body itself names the variable.
                spelled = spelling_offset(ref.location)
                if src.slice(spelled, spelled + len(name)) == name and \
                        not self._is_macro_name_at(spelled):
                    start, end = spelled, spelled + len(name)
                else:
                    self.sink.error(ref.location, "a macro body uses '%s', "
                                    "which lives in the async frame; pass "
                                    "it as a macro argument" % name,
                                    "corio-macro-local")
                    continue
            if start in seen:
                continue
            seen.add(start)
            amp = self._address_operator(unary, start)
            if amp is None:
                fn.edits.append((start, end, "corio_self->" + var.field))
            else:
                fn.field_addresses = True
                fn.edits.append((amp, amp + 1, ""))
                fn.edits.append((start, end,
                                 "CORIO__GEN_ADDR(%s)" % var.field))

    def _address_operator(self, unary, start):
        """Offset of the `&` of unary operator @unary when it takes the
        address of the variable spelled at @start (only parentheses between
        them), else None.

        `&local` is spelled CORIO__GEN_ADDR(field), the frame plus the
        field's offset, not `&corio_self->field`: gcc's -Wsequence-point
        takes the address of a member for a read of it, though not the
        address of a variable, so `f(&x, x = 1)` (defined C) would warn
        once x is a field.  An `&` written by a macro body stays as it is.
        """
        if unary is None:
            return None
        amp = spelling_offset(unary.location)
        if amp >= start or self.source.slice(amp, amp + 1) != "&" or \
                self.source.slice(amp + 1, start).strip(" \t\n(") != "":
            return None
        return amp

    # ------------------------------------------------------------------

    def plan_temporaries(self):
        for fn in self.program.functions:
            for a in fn.awaits:
                result = a.callee.result_type
                if result is None or a.discarded:
                    continue        # the start function gets NULL
                a.temp = "corio_t%d" % a.index
                try:
                    fn.temps.append((a.temp, declare(result, a.temp),
                                     result, a.scope))
                except TypeProblem as problem:
                    self.sink.error(self.pos(a.token_offset),
                                    problem.message, problem.ident)
            for n, seq in enumerate(sorted(fn.sequenced.values(), key=lambda
                                           s: s.node.extent.start.offset), 1):
                if not seq.temp_needed:
                    continue
                seq.temp = "corio_v%d" % n
                # && and || yield int; ?: and the comma their operand type.
                try:
                    decl = ("int " + seq.temp if seq.op in ("&&", "||")
                            else declare(seq.node.type, seq.temp))
                except TypeProblem as problem:
                    self.sink.error(seq.node.location, problem.message,
                                    problem.ident)
                    continue
                fn.temps.append((seq.temp, decl, None if seq.op in (
                    "&&", "||") else seq.node.type, seq.scope))
            needed = []
            for a in fn.awaits:
                c = a.callee
                if not c.start_declared and c not in needed and \
                        c.name not in {f.name for f in
                                       self.program.functions} and \
                        c.decl is not None and \
                        not in_main_file(c.decl, self.source):
                    needed.append(c)
            fn.callees_needing_proto = needed


def _unary_over(stack):
    """The unary operator applied to the expression whose ancestors are
    @stack (through parentheses), or None."""
    for parent in reversed(stack):
        if parent.kind != CK.PAREN_EXPR:
            return parent if parent.kind == CK.UNARY_OPERATOR else None
    return None


def _any_in(offsets, lo, hi):
    """True when sorted @offsets has one in [lo, hi)."""
    i = bisect.bisect_left(offsets, lo)
    return i < len(offsets) and offsets[i] < hi


def analyze(tu, source):
    """Run every check; returns a Program or raises CodegenError."""
    analyzer = Analyzer(tu, source)
    analyzer.collect()
    analyzer.check_bodies()
    analyzer.plan_temporaries()
    analyzer.sink.raise_if_any()
    return analyzer.program
