/* SPDX-License-Identifier: MIT */
/*
 * tests/tjson.h - a small strict JSON reader for tests that check what
 * corio writes (trace files): parse a document into a tree, then look
 * members up.  Strict: a document that is not valid JSON (RFC 8259,
 * UTF-8) is refused with the byte offset of the first error.
 */
#ifndef CORIO_TJSON_H
#define CORIO_TJSON_H

#include <stddef.h>

enum tj_type { TJ_NULL, TJ_BOOL, TJ_NUM, TJ_STR, TJ_ARR, TJ_OBJ };

struct tj {
	enum tj_type type;
	double num;		/* TJ_NUM; TJ_BOOL: 0 or 1 */
	char *str;		/* TJ_STR: decoded, NUL-terminated */
	size_t n;		/* TJ_ARR, TJ_OBJ: members */
	struct tj *v;		/* the members' values */
	char **keys;		/* TJ_OBJ: their names */
};

/*
 * Parse @text (@len bytes).  Returns the tree (free it with tj_free), or
 * NULL with *@err_at set to the offset of the first error.
 */
struct tj *tj_parse(const char *text, size_t len, size_t *err_at);
/* Read and parse the file at @path; NULL when unreadable or invalid (the
 * reason in @why). */
struct tj *tj_parse_file(const char *path, char *why, size_t whylen);
void tj_free(struct tj *t);

/* Member @key of object @o, or NULL (also when @o is not an object). */
const struct tj *tj_get(const struct tj *o, const char *key);
/* Its string, or NULL when absent or not a string. */
const char *tj_str(const struct tj *o, const char *key);
/* Its number, or @dflt when absent or not a number. */
double tj_num(const struct tj *o, const char *key, double dflt);

#endif /* CORIO_TJSON_H */
