/*
 * t-buf.c - unit tests for common/buf
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "t/unit/tap.h"

static void
t_append(void)
{
	struct buf	 b;

	buf_init(&b, 16);
	check_str(buf_str(&b), "");
	check_int(buf_adds(&b, "hello"), ==, BUF_OK);
	check_int(buf_addc(&b, ' '), ==, BUF_OK);
	check_int(buf_printf(&b, "%d", 42), ==, BUF_OK);
	check_str(buf_str(&b), "hello 42");
	check_int(b.len, ==, 8);
	buf_free(&b);
}

static void
t_limit(void)
{
	struct buf	 b;

	buf_init(&b, 8);
	check_int(buf_adds(&b, "12345678"), ==, BUF_OK);
	check_int(buf_addc(&b, 'x'), ==, BUF_TOOBIG);
	check_str(buf_str(&b), "12345678");
	check_int(buf_printf(&b, "%s", "y"), ==, BUF_TOOBIG);
	check_int(b.len, ==, 8);
	buf_truncate(&b, 3);
	check_str(buf_str(&b), "123");
	buf_free(&b);
}

static void
t_binary(void)
{
	struct buf	 b;
	char		*p;

	buf_init(&b, 100);
	check_int(buf_add(&b, "a\0b", 3), ==, BUF_OK);
	check_int(b.len, ==, 3);
	check_mem(b.data, b.len, "a\0b", 3);
	p = buf_take(&b);
	check(p != NULL && memcmp(p, "a\0b", 4) == 0);
	check(b.data == NULL && b.len == 0);
	free(p);
	p = buf_take(&b);
	check(p != NULL && p[0] == '\0');
	free(p);
}

static void
t_overflow(void)
{
	struct buf	 b;

	buf_init(&b, (size_t)-1);
	check_int(buf_adds(&b, "x"), ==, BUF_OK);
	check_int(buf_add(&b, "y", (size_t)-1), ==, BUF_TOOBIG);
	buf_free(&b);
}

int
main(void)
{
	TEST(t_append, "append strings, bytes and formats");
	TEST(t_limit, "the maximum is enforced and leaves contents intact");
	TEST(t_binary, "NUL bytes are data; buf_take hands over");
	TEST(t_overflow, "size arithmetic cannot overflow");
	return test_done();
}
