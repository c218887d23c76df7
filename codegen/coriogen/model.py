# SPDX-License-Identifier: MIT
"""The program model: the input language's fixed names, and the plain data
the analysis produces and the lowering consumes."""

from .declarator import is_void
from .parse import ci

AWAIT_WORDS = ("await", "CORIO_AWAIT")
ASYNC_WORDS = ("async", "CORIO_ASYNC")
CLEANUP_LABEL = "corio_finally"
THROW_NAME = "corio_throw"
FRAME_ERROR_NAME = "corio_frame_error"
# Names of the frame struct's own fields; user names never take them.
RESERVED_FIELDS = {"hdr", "corio_result"}


class Closing(str):
    """The text of an insertion edit that closes a construct ending at
    its offset: it belongs to a range that ends there."""


class Callee:
    """An awaitable function: what `await NAME(args)` starts."""

    def __init__(self, name, result_type, start_declared):
        self.name = name
        self.start_name = name and name + "__start"
        self.result_type = result_type      # None for void
        self.start_declared = start_declared  # NAME__start visible here
        self.decl = None                    # an annotated declaration


class Await:
    """One `await CALL` inside an async function."""

    def __init__(self, token_offset, token_end, call, outer_end, callee,
                 index):
        self.token_offset = token_offset    # the `await` keyword
        self.token_end = token_end
        self.call = call                    # CALL_EXPR cursor
        self.outer_end = outer_end          # end of call or its parens
        self.callee = callee
        self.index = index                  # resume point, 1-based
        # (start, end) of the callee expression of an await through a
        # pointer to an async function type, else None.
        self.pointer = None
        self.temp = None                    # frame field for the result
        self.discarded = False              # a statement of its own
        self.scope = None                   # (start, end) of its statement

    @property
    def start(self):
        return self.token_offset

    @property
    def end(self):
        return self.outer_end


class Sequenced:
    """An &&, ||, ?: or comma operator with an await in an operand C
    evaluates conditionally or after another: lowered to if statements
    that compute its value into a frame field."""

    def __init__(self, node, op, temp_needed):
        self.node = node
        self.op = op                        # "&&", "||", "?:" or ","
        self.temp_needed = temp_needed      # False for a void ?: or ,
        self.temp = None                    # frame field for the value
        self.scope = None                   # (start, end) of its statement


class Variable:
    """A parameter or local that lives in the frame."""

    def __init__(self, cursor, field, is_param):
        self.cursor = cursor
        self.name = cursor.spelling
        self.field = field
        self.is_param = is_param
        self.type = cursor.type
        self.decl_text = None               # field declaration, no ';'
        self.scope = None                   # (start, end) of its block, or
                                            # None: the whole frame


class AsyncFunction:
    """An async function definition and everything lowering needs."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.name = cursor.spelling
        self.is_static = cursor.storage_class == ci.StorageClass.STATIC
        result = cursor.result_type
        self.result_type = None if is_void(result) else result
        self.body = None
        self.params = []
        self.locals = []
        self.vars_by_hash = {}          # cursor hash -> [Variable]
        self.awaits = []
        self.edits = []                 # (start, end, text) in the body
        self.cleanup_label = None       # LABEL_STMT of corio_finally
        # Statements a macro expands to, copied as written: start offset
        # -> (start, end) of the macro call.
        self.macro_stmts = {}
        self.throws = {}                # offset of call -> CALL_EXPR
        # (start, end) of the node -> Sequenced, for &&, ||, ?: and the
        # comma operator around awaits.
        self.sequenced = {}
        self.temps = []                 # (field, declaration, type or
                                        # None for int, scope) per result
        # Compound literals lifted into the frame: (field, declaration,
        # type, scope: (start, end) of the enclosing block or None).
        self.literals = []
        self.callees_needing_proto = []  # Callee list
        self.aligned = False            # a local declared with alignas
        self.field_addresses = False    # CORIO__GEN_ADDR used
        self.stack_locals = []          # types of locals left on the stack


    def add_variable(self, var):
        self.vars_by_hash.setdefault(var.cursor.hash, []).append(var)

    def variable_for(self, decl):
        """The frame Variable of declaration cursor @decl, or None.

        Keyed by libclang's cursor hash (one call, where a location costs
        several); equality confirms, so a hash collision cannot turn a
        global into a frame field."""
        for var in self.vars_by_hash.get(decl.hash, ()):
            if var.cursor == decl:
                return var
        return None


class Program:
    """The analysed main file."""

    def __init__(self, source):
        self.source = source
        self.functions = []             # AsyncFunction, in source order
        self.prototypes = []            # annotated prototypes in main file
        self.callees = {}
        self.includes = []              # (start, end, name) of #includes
        # Typedefs of async function types in the main file: they become
        # typedefs of start function types.
        self.async_typedefs = []
        # (start, end, text) edits of text outside async functions:
        # async functions named as values become their start functions.
        self.edits = []
        self.header_size = 32           # sizeof(struct corio_frame), read
                                        # from the parsed corio headers
