#!/bin/sh
test_description='parsers against golden files: t/golden/CMD/NAME.in gives NAME.ref'
. "$(dirname "$0")/test-lib.sh"

for dir in "$T_DIR"/golden/*/; do
	cmd=$(basename "$dir")
	for in in "$dir"*.in; do
		[ -f "$in" ] || continue
		name=$(basename "$in" .in)
		ref=${in%.in}.ref
		args=
		[ -f "${in%.in}.args" ] && args=$(cat "${in%.in}.args")
		# @QUEUEFILE@: the input as a queue file named by a valid ID
		case $args in
		*@QUEUEFILE@*)
			mkdir -p q && cp "$in" q/AAAAAAAAAAA &&
			args=$(printf '%s' "$args" | sed "s|@QUEUEFILE@|$TRASH/q/AAAAAAAAAAA|")
			;;
		esac
		test_expect_success "$cmd $name" "
			correo-test $cmd $args <'$in' >out 2>&1;
			echo \"exit \$?\" >>out &&
			test_cmp '$ref' out
		"
	done
done

test_done
