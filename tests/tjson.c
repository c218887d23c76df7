/* SPDX-License-Identifier: MIT */
/*
 * tests/tjson.c - the small strict JSON reader of tjson.h: recursive
 * descent over the grammar of RFC 8259, with UTF-8 checked in strings.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tjson.h"

struct in {
	const unsigned char *p, *end, *start;
	int depth;
};

static bool fail(struct in *in)
{
	(void)in;
	return false;
}

static void ws(struct in *in)
{
	while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' ||
				   *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static bool lit(struct in *in, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, s, n))
		return fail(in);
	in->p += n;
	return true;
}

static bool value(struct in *in, struct tj *out);

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append code point @cp as UTF-8. */
static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of a valid UTF-8 sequence at @p, or 0. */
static size_t utf8_ok(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] < 0xe0)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] < 0xf0)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] < 0xf5)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static bool hex4(struct in *in, unsigned *cp)
{
	int i, h;

	*cp = 0;
	if (in->end - in->p < 4)
		return fail(in);
	for (i = 0; i < 4; i++) {
		h = hexval(in->p[i]);
		if (h < 0)
			return fail(in);
		*cp = *cp << 4 | (unsigned)h;
	}
	in->p += 4;
	return true;
}

static bool string(struct in *in, char **out)
{
	const unsigned char *q;
	char *o;
	size_t n;

	if (in->p >= in->end || *in->p != '"')
		return fail(in);
	in->p++;
	/* Decoded text is never longer than its source. */
	for (q = in->p; q < in->end && *q != '"'; q++)
		if (*q == '\\')
			q++;
	*out = o = malloc((size_t)(q - in->p) + 1);
	if (!o)
		return fail(in);
	while (in->p < in->end && *in->p != '"') {
		unsigned c = *in->p, cp;

		if (c < 0x20)
			return fail(in);
		if (c != '\\') {
			n = utf8_ok(in->p, in->end);
			if (!n)
				return fail(in);
			memcpy(o, in->p, n);
			o += n;
			in->p += n;
			continue;
		}
		if (++in->p >= in->end)
			return fail(in);
		switch (*in->p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (!hex4(in, &cp))
				return false;
			if (cp >= 0xd800 && cp < 0xdc00) {
				unsigned lo;

				if (!lit(in, "\\u") || !hex4(in, &lo) ||
				    lo < 0xdc00 || lo >= 0xe000)
					return fail(in);
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return fail(in);
			}
			o += put_utf8(o, cp);
			break;
		default:
			return fail(in);
		}
	}
	if (in->p >= in->end)
		return fail(in);
	in->p++;
	*o = '\0';
	return true;
}

static bool number(struct in *in, double *out)
{
	const unsigned char *s = in->p;
	char buf[64];

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p >= in->end)
		return fail(in);
	if (*in->p == '0') {
		in->p++;
	} else if (*in->p >= '1' && *in->p <= '9') {
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	} else {
		return fail(in);
	}
	if (in->p < in->end && *in->p == '.') {
		in->p++;
		if (in->p >= in->end || *in->p < '0' || *in->p > '9')
			return fail(in);
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (in->p >= in->end || *in->p < '0' || *in->p > '9')
			return fail(in);
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	if ((size_t)(in->p - s) >= sizeof(buf))
		return fail(in);
	memcpy(buf, s, (size_t)(in->p - s));
	buf[in->p - s] = '\0';
	*out = strtod(buf, NULL);
	return true;
}

/* Append a member to @out (an array or object). */
static struct tj *grow(struct tj *out, bool keys)
{
	if ((out->n & (out->n - 1)) == 0) {	/* 0, 1, 2, 4...: double */
		size_t cap = out->n ? 2 * out->n : 1;
		struct tj *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		out->v = v;
		if (keys) {
			char **k = realloc(out->keys, cap * sizeof(*k));

			if (!k)
				return NULL;
			out->keys = k;
		}
	}
	memset(&out->v[out->n], 0, sizeof(out->v[0]));
	return &out->v[out->n++];
}

static bool members(struct in *in, struct tj *out, bool obj)
{
	char close = obj ? '}' : ']';

	in->p++;
	ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		return true;
	}
	for (;;) {
		char *key = NULL;
		struct tj *m;

		ws(in);
		if (obj) {
			if (!string(in, &key)) {
				free(key);
				return false;
			}
			ws(in);
			if (!lit(in, ":")) {
				free(key);
				return false;
			}
		}
		m = grow(out, obj);
		if (!m) {
			free(key);
			return fail(in);
		}
		if (obj)
			out->keys[out->n - 1] = key;
		if (!value(in, m))
			return false;
		ws(in);
		if (in->p < in->end && *in->p == ',') {
			in->p++;
			continue;
		}
		if (in->p < in->end && *in->p == close) {
			in->p++;
			return true;
		}
		return fail(in);
	}
}

static bool value(struct in *in, struct tj *out)
{
	bool ok;

	ws(in);
	if (in->p >= in->end || ++in->depth > 256)
		return fail(in);
	switch (*in->p) {
	case '{':
		out->type = TJ_OBJ;
		ok = members(in, out, true);
		break;
	case '[':
		out->type = TJ_ARR;
		ok = members(in, out, false);
		break;
	case '"':
		out->type = TJ_STR;
		ok = string(in, &out->str);
		break;
	case 't':
		out->type = TJ_BOOL;
		out->num = 1;
		ok = lit(in, "true");
		break;
	case 'f':
		out->type = TJ_BOOL;
		ok = lit(in, "false");
		break;
	case 'n':
		out->type = TJ_NULL;
		ok = lit(in, "null");
		break;
	default:
		out->type = TJ_NUM;
		ok = number(in, &out->num);
		break;
	}
	in->depth--;
	return ok;
}

static void tj_clear(struct tj *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		tj_clear(&t->v[i]);
		if (t->type == TJ_OBJ)
			free(t->keys[i]);
	}
	free(t->v);
	free(t->keys);
	free(t->str);
}

void tj_free(struct tj *t)
{
	if (t) {
		tj_clear(t);
		free(t);
	}
}

struct tj *tj_parse(const char *text, size_t len, size_t *err_at)
{
	struct in in = { (const unsigned char *)text,
			 (const unsigned char *)text + len,
			 (const unsigned char *)text, 0 };
	struct tj *t = calloc(1, sizeof(*t));

	if (t && value(&in, t)) {
		ws(&in);
		if (in.p == in.end)
			return t;
	}
	*err_at = (size_t)(in.p - in.start);
	tj_free(t);
	return NULL;
}

struct tj *tj_parse_file(const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	struct tj *t = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n, at;

	if (!f) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (len == cap) {
			char *p = realloc(text, cap = cap ? 2 * cap : 65536);

			if (!p)
				goto out;
			text = p;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n);
	t = tj_parse(text, len, &at);
	if (!t)
		snprintf(why, whylen, "%s: not valid JSON at byte %zu of %zu: "
			 "%.40s", path, at, len, at < len ? text + at : "(end)");
out:
	free(text);
	fclose(f);
	return t;
}

const struct tj *tj_get(const struct tj *o, const char *key)
{
	size_t i;

	if (!o || o->type != TJ_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->v[i];
	return NULL;
}

const char *tj_str(const struct tj *o, const char *key)
{
	const struct tj *v = tj_get(o, key);

	return v && v->type == TJ_STR ? v->str : NULL;
}

double tj_num(const struct tj *o, const char *key, double dflt)
{
	const struct tj *v = tj_get(o, key);

	return v && v->type == TJ_NUM ? v->num : dflt;
}
