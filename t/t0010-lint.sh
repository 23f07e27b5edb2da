#!/bin/sh
test_description='make lint: layering and banned functions'
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'the sources pass t/lint-src.sh' '
	sh "$SRC_DIR/t/lint-src.sh" >out 2>&1 || { cat out; false; }
'

test_done
