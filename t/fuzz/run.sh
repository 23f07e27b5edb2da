#!/bin/sh
# run.sh BUILD - run every fuzz target in BUILD/fuzz for $FUZZ_SECONDS
# each, with its seed corpus from t/fuzz/seed-NAME (golden inputs are
# seeds too).  Exits non-zero when a target finds a crash.
build=${1:-build}
secs=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for bin in "$build"/fuzz/fuzz-*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz-}
	corpus=$here/corpus-$name
	mkdir -p "$corpus"
	seeds=
	[ -d "$here/seed-$name" ] && seeds=$here/seed-$name
	echo "fuzz-$name: ${secs}s"
	"$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 \
	    -rss_limit_mb=1024 -artifact_prefix="$build/fuzz/$name-" \
	    "$corpus" $seeds >"$build/fuzz/$name.log" 2>&1 || {
		echo "fuzz-$name FAILED: see $build/fuzz/$name.log"
		tail -n 30 "$build/fuzz/$name.log"
		status=1
	}
done
exit $status
