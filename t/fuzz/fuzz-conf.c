/*
 * fuzz-conf.c - libFuzzer target for common/conf
 *
 * The input is a configuration file, parsed with conf_load_mem().  When
 * it loads, every parameter is printed (all, then only those set), each
 * list and number is fetched, and an override that references other
 * parameters is applied and printed again.  conf_reset() then frees
 * everything, so LeakSanitizer sees any leak.  Warnings go to
 * /dev/null, not to stderr or syslog.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/conf.h"
#include "common/log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static FILE	*fuzz_null;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char	*names[] = { "mydestination", "biff", "myorigin",
			    "no_such_parameter", NULL };
	struct buf	 why;
	char		**list;

	if (fuzz_null == NULL) {
		log_init("fuzz-conf", "fuzz");
		log_stderr(0);
		log_open(NULL, "/dev/null");
		if ((fuzz_null = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	buf_init(&why, 4096);
	if (conf_load_mem("fuzz.conf", (const char *)data, len, &why) == 0) {
		conf_print(fuzz_null, CONF_PRINT_ALL, NULL, &why);
		conf_print(fuzz_null, CONF_PRINT_SET, NULL, &why);
		conf_print(fuzz_null, CONF_PRINT_ALL, names, &why);
		list = conf_list("mydestination");
		conf_list_free(list);
		list = conf_list("alternate_config_directories");
		conf_list_free(list);
		(void)conf_size("message_size_limit");
		(void)conf_size("header_size_limit");
		(void)conf_int("line_length_limit");
		(void)conf_int("hopcount_limit");
		(void)conf_is_set("biff");
		if (conf_override("mail_name=${mydomain?{$myorigin}:{x}}-$biff",
		    &why) == 0)
			conf_print(fuzz_null, CONF_PRINT_ALL, NULL, &why);
	} else
		conf_print(fuzz_null, CONF_PRINT_ALL, NULL, &why);
	conf_reset();
	buf_free(&why);
	return 0;
}
