/* SPDX-License-Identifier: MIT */
/*
 * corio/async.h - the macro DSL: write corio coroutines in plain C, without
 * the code generator.  Header-only; the frames it declares follow the same
 * ABI as generated code (corio/frame.h), so both kinds await each other.
 *
 * Example: copy a file descriptor to another.
 *
 *	#include <corio.h>
 *	#include <corio/async.h>
 *
 *	corio_async(ssize_t, copy_fd, ((int, in), (int, out)), (
 *		char buf[65536];
 *		int64_t off;
 *		ssize_t n, w;
 *	))
 *	{
 *		corio_begin();
 *		for (;;) {
 *			corio_await(self->n, corio_read, self->in, self->buf,
 *				    sizeof self->buf, self->off);
 *			if (self->n <= 0)
 *				break;
 *			corio_await(self->w, corio_write_all, self->out,
 *				    self->buf, (size_t)self->n, self->off);
 *			if (self->w < 0)
 *				corio_return(self->w);
 *			self->off += self->n;
 *		}
 *		corio_return(self->n < 0 ? self->n : self->off);
 *	corio_finally:
 *		corio_end();
 *	}
 *
 *	... elsewhere, from main:
 *	corio_spawn(loop, copy_fd__start(NULL, in, out, &copied), &task);
 *
 * corio_async(RET, NAME, (PARAMS), (LOCALS)) defines NAME__start() (see
 * corio/frame.h) and a frame struct holding the parameters, the locals and
 * a pointer to the caller's result slot.  PARAMS is a list of (type, name)
 * pairs, LOCALS ordinary declarations; both may be empty: ().  Inside the
 * body `self` points to the frame: parameters and locals are self->name.
 *
 *	corio_begin()              first statement of the body
 *	corio_await(dst, f, a...)  await f(a...) storing its result in dst
 *	corio_await_void(f, a...)  await a void async function or operation
 *	corio_await_discard(f, a...)  await, dropping the result
 *	corio_await_frame(frame)   await a frame from f__start(NULL, ...)
 *	corio_yield()              let other ready tasks run
 *	corio_return(v)            store v as the result and finish
 *	corio_return_void()        finish a void function
 *	corio_throw(err)           fail with err (< 0): the caller unwinds too
 *	corio_finally:             start of the cleanup section (required)
 *	corio_end()                last statement of the body
 *
 * Every suspending macro also has an _at twin taking an explicit resume
 * point id (a positive integer constant, unique in the function and below
 * 0x40000000) instead of one from __COUNTER__.
 *
 * The cleanup section runs on every exit: after corio_return, corio_throw,
 * falling off the end of the body, and when the task is cancelled or a
 * child failed (then self->hdr.err is the negative errno, else 0).
 *
 * Caveats:
 *  - Ordinary C locals do not survive an await: whatever must be used after
 *    an await lives in LOCALS (self->...).  Frames start zeroed.
 *  - Awaits are statements, not expressions: store the result, then test it.
 *  - With gcc and clang, resume points are label addresses, so awaits work
 *    anywhere, including inside your own switch statements.  Elsewhere (or
 *    with CORIO_NO_LABELS_AS_VALUES defined) the body is one big switch:
 *    then an await must not sit inside a switch of yours, and a `break` at
 *    the top level of the body leaves the state machine.
 *  - No await, corio_return or corio_throw inside the cleanup section (the
 *    runtime aborts with a message naming the function and line).
 *  - No variable-length arrays or alloca() in the body: a jump to a resume
 *    point cannot cross them.
 *  - Never call blocking system calls in a body: the whole loop would stop.
 *  - Parameter and result types must be writable as `T name` and `T *`:
 *    use a typedef for function pointer and array types.
 *  - `self`, `corio_finally` and names starting with corio__ are reserved
 *    inside a body.
 *  - A start function's frame belongs to whoever receives it: await it or
 *    spawn it, exactly once.
 */
#ifndef CORIO_ASYNC_H
#define CORIO_ASYNC_H

#include <corio.h>

/* ---------------------------------------------------------------------- */
/* Preprocessor plumbing (internal).                                      */

#define CORIO__CAT_(a, b) a##b
#define CORIO__CAT(a, b) CORIO__CAT_(a, b)
#define CORIO__ID(...) __VA_ARGS__

/* The 17th argument: counts up to 16 arguments. */
#define CORIO__ARG17(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, \
		     a13, a14, a15, a16, n, ...) n
#define CORIO__NARGS(...) CORIO__ARG17(__VA_ARGS__, 16, 15, 14, 13, 12, \
	11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define CORIO__HAS_COMMA(...) CORIO__ARG17(__VA_ARGS__, 1, 1, 1, 1, 1, 1, \
	1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0)

/* 1 when the type is exactly `void` (not `void *`), else 0. */
#define CORIO__CHECK_N(x, n, ...) n
#define CORIO__CHECK(...) CORIO__CHECK_N(__VA_ARGS__, 0, )
#define CORIO__VOIDP_void() ~, 1,
#define CORIO__IS_VOID(t) CORIO__CHECK(CORIO__CAT(CORIO__VOIDP_, t) ())

/* Number of (type, name) pairs in a parenthesised list, which may be (). */
#define CORIO__FIRST_PAIR(...) CORIO__ID __VA_ARGS__
#define CORIO__PCOUNT(params) \
	CORIO__CAT(CORIO__PCOUNT_, \
		   CORIO__HAS_COMMA(CORIO__FIRST_PAIR params))(params)
#define CORIO__PCOUNT_0(params) 0
#define CORIO__PCOUNT_1(params) CORIO__NARGS(CORIO__ID params)

/* Apply f to each pair. */
#define CORIO__MAP(f, params) \
	CORIO__APPLY(CORIO__CAT(CORIO__MAP_, CORIO__PCOUNT(params)), f, \
		     CORIO__ID params)
/* Expands the list before m sees it, so m gets one argument per pair. */
#define CORIO__APPLY(m, f, ...) m(f, __VA_ARGS__)
#define CORIO__MAP_0(f, ...)
#define CORIO__MAP_1(f, p) f p
#define CORIO__MAP_2(f, p, ...) f p CORIO__MAP_1(f, __VA_ARGS__)
#define CORIO__MAP_3(f, p, ...) f p CORIO__MAP_2(f, __VA_ARGS__)
#define CORIO__MAP_4(f, p, ...) f p CORIO__MAP_3(f, __VA_ARGS__)
#define CORIO__MAP_5(f, p, ...) f p CORIO__MAP_4(f, __VA_ARGS__)
#define CORIO__MAP_6(f, p, ...) f p CORIO__MAP_5(f, __VA_ARGS__)
#define CORIO__MAP_7(f, p, ...) f p CORIO__MAP_6(f, __VA_ARGS__)
#define CORIO__MAP_8(f, p, ...) f p CORIO__MAP_7(f, __VA_ARGS__)
#define CORIO__MAP_9(f, p, ...) f p CORIO__MAP_8(f, __VA_ARGS__)
#define CORIO__MAP_10(f, p, ...) f p CORIO__MAP_9(f, __VA_ARGS__)

#define CORIO__PFIELD(type, name) type name;
#define CORIO__PDECL(type, name) , type name
#define CORIO__PASSIGN(type, name) corio__f->name = name;

/* Pieces that exist only for non-void results. */
#define CORIO__RFIELD_0(ret) ret *corio__result;
#define CORIO__RFIELD_1(ret)
#define CORIO__RPARAM_0(ret) , ret *corio__result
#define CORIO__RPARAM_1(ret)
#define CORIO__RASSIGN_0 corio__f->corio__result = corio__result;
#define CORIO__RASSIGN_1

/* ---------------------------------------------------------------------- */
/* Declaring and defining async functions.                                */

#define CORIO__START_PROTO(ret, name, isvoid, params)			\
	struct corio_frame *name##__start(				\
		struct corio_frame *corio__parent			\
		CORIO__MAP(CORIO__PDECL, params)			\
		CORIO__CAT(CORIO__RPARAM_, isvoid)(ret))

#define CORIO__DEFINE(linkage, ret, name, isvoid, params, locals)	\
	struct name##__frame {						\
		struct corio_frame hdr;					\
		CORIO__CAT(CORIO__RFIELD_, isvoid)(ret)			\
		CORIO__MAP(CORIO__PFIELD, params)			\
		CORIO__ID locals					\
	};								\
	static struct corio_frame *name##__resume(struct corio_frame *); \
	static const struct corio_fninfo name##__info = {		\
		name##__resume, #name, __FILE__, __LINE__,		\
		(uint32_t)sizeof(struct name##__frame)			\
	};								\
	linkage CORIO__START_PROTO(ret, name, isvoid, params);		\
	linkage CORIO__START_PROTO(ret, name, isvoid, params)		\
	{								\
		struct name##__frame *corio__f = (struct name##__frame *) \
			(void *)corio_frame_alloc(&name##__info,	\
						  corio__parent);	\
		if (!corio__f)						\
			return 0;					\
		CORIO__MAP(CORIO__PASSIGN, params)			\
		CORIO__CAT(CORIO__RASSIGN_, isvoid)			\
		return &corio__f->hdr;					\
	}								\
	static struct corio_frame *name##__body(struct name##__frame *self); \
	static struct corio_frame *name##__resume(struct corio_frame *f) \
	{								\
		return name##__body((struct name##__frame *)(void *)f);	\
	}								\
	static struct corio_frame *name##__body(struct name##__frame *self)

/*
 * Define an async function with external linkage; the body follows in
 * braces.  RET is its result type (void allowed), PARAMS a parenthesised
 * list of (type, name) pairs, LOCALS parenthesised declarations.
 */
#define corio_async(ret, name, params, locals) \
	CORIO__DEFINE(, ret, name, CORIO__IS_VOID(ret), params, locals)

/* corio_async with internal linkage. */
#define corio_async_static(ret, name, params, locals) \
	CORIO__DEFINE(static, ret, name, CORIO__IS_VOID(ret), params, locals)

/* Declare (e.g. in a header) an async function defined elsewhere. */
#define corio_async_decl(ret, name, params) \
	CORIO__START_PROTO(ret, name, CORIO__IS_VOID(ret), params)

/* ---------------------------------------------------------------------- */
/* Resume points.                                                         */

#if (defined(__GNUC__) || defined(__clang__)) && \
	!defined(CORIO_NO_LABELS_AS_VALUES)
/*
 * The resume point is stored as the distance of its label from a base
 * label, biased so that 0 stays "not started" and CORIO_STATE_UNWIND can
 * never be a real distance.
 */
#define CORIO__BIAS 0x80000000u
#define CORIO__LABEL(id, n) CORIO__CAT(corio__resume_, id)
#define CORIO__SET_STATE(id, n)						\
	(self->hdr.state = (uint32_t)(CORIO__BIAS + (uint32_t)(int32_t)	\
		__extension__((char *)&&CORIO__LABEL(id, n) -		\
			      (char *)&&corio__base)))
#define CORIO__DISPATCH()						\
	_Pragma("GCC diagnostic push")					\
	_Pragma("GCC diagnostic ignored \"-Wpedantic\"")		\
	goto *(void *)((char *)&&corio__base +				\
		       (int32_t)(self->hdr.state - CORIO__BIAS));	\
	_Pragma("GCC diagnostic pop")

#define corio_begin()							\
	if (self->hdr.state != 0) {					\
		if (self->hdr.state == CORIO_STATE_UNWIND) {		\
			self->hdr.flags |= CORIO_FRAME_FINALLY;		\
			goto corio_finally;				\
		}							\
		CORIO__DISPATCH()					\
	}								\
	corio__base:;

#define corio_end() return 0

#else /* one switch over the whole body */

#define CORIO__LABEL(id, n) case (n) + 1
#define CORIO__SET_STATE(id, n) (self->hdr.state = (uint32_t)(n) + 1)

#define corio_begin()							\
	switch (self->hdr.state) {					\
	case CORIO_STATE_UNWIND:					\
		self->hdr.flags |= CORIO_FRAME_FINALLY;			\
		goto corio_finally;					\
	default:							\
		corio_frame_misuse(&self->hdr, "invalid resume state");	\
		return 0;						\
	case 0:

#define corio_end() ; } return 0

#endif

/* ---------------------------------------------------------------------- */
/* Awaiting.                                                              */

/* id names the resume label, n numbers the resume point (switch mode). */
#define CORIO__AWAIT(id, n, start)					\
	do {								\
		struct corio_frame *corio__c;				\
		if (self->hdr.flags & CORIO_FRAME_FINALLY)		\
			corio_frame_misuse(&self->hdr,			\
					   "await in a cleanup section"); \
		self->hdr.line = __LINE__;				\
		corio__c = (start);					\
		if (corio__c != CORIO_READY) {				\
			CORIO__SET_STATE(id, n);			\
			return corio__await_step(&self->hdr, corio__c);	\
		}							\
		CORIO__LABEL(id, n):;					\
	} while (0)

#define CORIO__AWAIT_N(n, start) CORIO__AWAIT(n, n, start)
#define CORIO__AWAIT_AT(id, start) \
	CORIO__AWAIT(CORIO__CAT(at_, id), 0x40000000 + (id), start)

/* f__start(parent, args..., res) whether or not args is empty. */
#define CORIO__START(res, ...)						\
	CORIO__CAT(CORIO__START_, CORIO__HAS_COMMA(__VA_ARGS__))(res, __VA_ARGS__)
#define CORIO__START_0(res, fn) fn##__start(&self->hdr, res)
#define CORIO__START_1(res, fn, ...) fn##__start(&self->hdr, __VA_ARGS__, res)
#define CORIO__STARTV(...)						\
	CORIO__CAT(CORIO__STARTV_, CORIO__HAS_COMMA(__VA_ARGS__))(__VA_ARGS__)
#define CORIO__STARTV_0(fn) fn##__start(&self->hdr)
#define CORIO__STARTV_1(fn, ...) fn##__start(&self->hdr, __VA_ARGS__)

/* Await fn(args...) and store its result in the lvalue dst. */
#define corio_await(dst, ...) \
	CORIO__AWAIT_N(__COUNTER__, CORIO__START(&(dst), __VA_ARGS__))
#define corio_await_at(id, dst, ...) \
	CORIO__AWAIT_AT(id, CORIO__START(&(dst), __VA_ARGS__))

/* Await a void async function or operation. */
#define corio_await_void(...) \
	CORIO__AWAIT_N(__COUNTER__, CORIO__STARTV(__VA_ARGS__))
#define corio_await_void_at(id, ...) \
	CORIO__AWAIT_AT(id, CORIO__STARTV(__VA_ARGS__))

/* Await fn(args...), dropping its result. */
#define corio_await_discard(...) \
	CORIO__AWAIT_N(__COUNTER__, CORIO__START(0, __VA_ARGS__))
#define corio_await_discard_at(id, ...) \
	CORIO__AWAIT_AT(id, CORIO__START(0, __VA_ARGS__))

/*
 * Await a frame that was started without a parent, f__start(NULL, ...):
 * it runs as a child call; its result goes where its start function was
 * told to put it.
 */
#define corio_await_frame(f) \
	CORIO__AWAIT_N(__COUNTER__, corio__adopt(&self->hdr, (f)))
#define corio_await_frame_at(id, f) \
	CORIO__AWAIT_AT(id, corio__adopt(&self->hdr, (f)))

/* Let the other ready tasks run. */
#define corio_yield() corio_await_void(corio_yield)
#define corio_yield_at(id) corio_await_void_at(id, corio_yield)

/* ---------------------------------------------------------------------- */
/* Leaving.                                                               */

#define CORIO__LEAVE()							\
	do {								\
		if (self->hdr.flags & CORIO_FRAME_FINALLY)		\
			corio_frame_misuse(&self->hdr,			\
				"return or throw in a cleanup section"); \
		self->hdr.flags |= CORIO_FRAME_FINALLY;			\
		goto corio_finally;					\
	} while (0)

/* Store the value as the function's result and run the cleanup section. */
#define corio_return(...)						\
	do {								\
		if (self->corio__result)				\
			*self->corio__result = (__VA_ARGS__);		\
		CORIO__LEAVE();						\
	} while (0)

/* Finish a void async function (runs the cleanup section). */
#define corio_return_void() CORIO__LEAVE()

/*
 * Fail with @e (a negative errno): the cleanup section runs, then the
 * caller unwinds with the same error, up to the task's status.
 */
#define corio_throw(e)							\
	do {								\
		self->hdr.err = (int32_t)(e);				\
		CORIO__LEAVE();						\
	} while (0)

#endif /* CORIO_ASYNC_H */
