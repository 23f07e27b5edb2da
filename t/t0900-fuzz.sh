#!/bin/sh
test_description='each libFuzzer target runs a few seconds without a finding'
. "$(dirname "$0")/test-lib.sh"

test_lazy_prereq CLANG_FUZZER '
	printf "int LLVMFuzzerTestOneInput(const char*d,long n){(void)d;(void)n;return 0;}" >f.c &&
	clang -fsanitize=fuzzer f.c -o f
'
if ! test_have_prereq CLANG_FUZZER; then
	skip_all 'clang with libFuzzer (libclang-rt-14-dev) is not installed'
fi
if [ -n "$CORREO_ASAN" ]; then
	skip_all 'the fuzz targets are already ASan builds; run once in make check'
fi

for src in "$SRC_DIR"/t/fuzz/fuzz-*.c; do
	[ -f "$src" ] || continue
	name=$(basename "$src" .c)
	test_expect_success "$name builds and runs 4s clean" "
		(cd '$SRC_DIR' && make -s BUILD='$CORREO_BUILD' '$CORREO_BUILD/fuzz/$name') &&
		mkdir -p corpus &&
		seeds= &&
		if [ -d '$SRC_DIR/t/fuzz/seed-${name#fuzz-}' ]; then seeds='$SRC_DIR/t/fuzz/seed-${name#fuzz-}'; fi &&
		'$CORREO_BUILD/fuzz/$name' -max_total_time=4 -max_len=4096 \
		    -timeout=10 -rss_limit_mb=1024 -artifact_prefix=./ corpus \$seeds >log 2>&1 ||
		{ tail -n 40 log; false; }
	"
done

test_done
