#!/bin/sh
# lint-src.sh - make lint: the layering rule and the banned functions.
#
# 1. Dependencies go one way: cmd/* -> spool/ -> common/.  common/ may
#    not include spool/ or cmd/ headers; spool/ may not include cmd/
#    headers nor anything SMTP, TLS or SASL; one cmd/ program may not
#    include another's files.
# 2. Banned functions (STYLE.md rule 10): sprintf vsprintf strcpy strcat
#    strncpy strncat gets atoi atol strtok tmpnam mktemp system popen,
#    and raw snprintf outside the three modules that wrap it.
# 3. The test suite lints itself: test scripts are executable, their
#    numbers unique.
cd "$(dirname "$0")/.." || exit 2
status=0
fail() { echo "lint: $*"; status=1; }

for f in common/*.[ch]; do
	grep -n '#include "\(spool\|cmd\)/' "$f" | while IFS= read -r l; do
		echo "lint: $f:$l: common/ must not depend on spool/ or cmd/"
	done | grep . && status=1
done
for f in spool/*.[ch]; do
	grep -n '#include "cmd/\|#include "common/\(tls\|sasl\|smtp\)[^"]*\.h"\|#include <openssl/' "$f" |
	while IFS= read -r l; do
		echo "lint: $f:$l: spool/ must not depend on cmd/ or SMTP/TLS/SASL"
	done | grep . && status=1
done
for d in cmd/*/; do
	prog=$(basename "$d")
	grep -n '#include "cmd/' "$d"*.[ch] 2>/dev/null | grep -v "\"cmd/$prog/" |
	while IFS= read -r l; do
		echo "lint: $l: one program may not include another's files"
	done | grep . && status=1
done

banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|gets|atoi|atol|strtok|tmpnam|mktemp|system|popen'
for f in $(find common spool cmd t/helper t/unit t/fuzz bench -name '*.[ch]' 2>/dev/null); do
	# strip comments and strings crudely: only code should match
	sed -e 's://.*$::' -e 's:/\*.*\*/::g' -e 's:/\*.*$::' \
	    -e 's:^[[:space:]]*\*.*$::' -e 's/"[^"]*"//g' "$f" |
	grep -nE "(^|[^a-zA-Z0-9_.>])($banned)[[:space:]]*\(" |
	while IFS= read -r l; do
		echo "lint: $f:$l: banned function"
	done | grep . && status=1
	case "$f" in
	common/buf.c|common/log.c|common/util.c|t/*|bench/*) ;;
	*)
		sed -e 's/"[^"]*"//g' "$f" | grep -nE '(^|[^a-z_])snprintf[[:space:]]*\(' |
		while IFS= read -r l; do
			echo "lint: $f:$l: raw snprintf: use bsnprintf() or struct buf"
		done | grep . && status=1
		;;
	esac
done

for t in t/t[0-9]*.sh; do
	[ -x "$t" ] || fail "$t is not executable"
done
dups=$(ls t/t[0-9]*.sh | sed 's:.*/t\([0-9]*\)-.*:\1:' | sort | uniq -d)
[ -z "$dups" ] || fail "duplicate test numbers: $dups"

[ $status = 0 ] && echo "lint: ok"
exit $status
