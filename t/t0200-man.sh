#!/bin/sh
test_description='man pages: mandoc -Tlint is clean, every option letter and parameter is documented'
. "$(dirname "$0")/test-lib.sh"

# Three checks over man/, cmd/ and common/conf.c of the source tree:
#
# 1. For every man/*.[0-9], "mandoc -Tlint" prints nothing (MANDOC).
#    It runs in man/, where mandoc looks for NAME.SEC when it checks an
#    .Xr, so references between correo's pages resolve before they are
#    installed.  What mandoc says about references it cannot find on
#    disk ("referenced manual not found", and "outdated mandoc.db lacks"
#    when the host's database has a name its disk lacks) depends on the
#    host, and is a note, not a failure, for a page of another package,
#    or for a correo program whose page is not written yet (cmd/NAME
#    exists, or aliases(5)).  A reference to a correo page in the wrong
#    section, or to a correo.* page that does not exist, is a failure.
#
# 2. For every cmd/PROG/main.c that has a page man/PROG.[158], every
#    option letter of its getopt string (the literal passed to getopt()
#    or getopt_long(), or the #define it names) appears on the page as
#    a .Fl argument: ".Fl x" (in .It, .Op or anywhere), or inside a
#    cluster of flags that take no argument (".Op Fl Gimntv").  For a
#    program with a PREFIX_option_o() function (sendmail), every -o
#    letter it handles appears too: a top-level "case 'x':" as a .Fl
#    argument that starts with "ox", a second-level "case 'y':" under
#    it as "oxy", and a strcmp(arg, "xy") as exactly "oxy".
#
# 3. Every parameter of correo's table, conf_params[] in common/conf.c,
#    has an entry on man/correo.conf.5 (".It Va name"), as Postfix checks
#    that every parameter is documented.

MAN_DIR=$SRC_DIR/man
CMD_DIR=$SRC_DIR/cmd

# fl_words PAGE - the word after each Fl macro on the page's macro lines
fl_words() {
	awk '/^[.\047]/ {
		for (i = 1; i < NF; i++)
			if ($i == "Fl" || $i == ".Fl")
				print $(i + 1)
	}' "$1"
}

# optstring MAIN_C - the getopt option string of a program, or nothing
optstring() {
	_arg=$(sed -n 's/.*getopt\(_long\)\{0,1\}([^,]*,[^,]*,[	 ]*\([^,)]*\).*/\2/p' "$1" |
	    head -n 1)
	case "$_arg" in
	'"'*)	;;
	'')	return 0 ;;
	*)	_arg=$(sed -n "s/^#[	 ]*define[	 ]\{1,\}$_arg[	 ]\{1,\}\(\".*\"\).*/\1/p" \
		    "$1" | head -n 1) ;;
	esac
	# Join "ab" "cd" and drop the quotes.
	printf '%s\n' "$_arg" | sed -e 's/"[	 ]*"//g' -e 's/^"//' -e 's/".*$//'
}

# opt_letters OPTSTRING - "letter takes-argument" pairs, one a line
opt_letters() {
	printf '%s\n' "$1" | awk '{
		s = $0
		sub(/^[-+]/, "", s)
		sub(/^:/, "", s)
		n = length(s)
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (c == ":")
				continue
			print c, (substr(s, i + 1, 1) == ":") ? 1 : 0
		}
	}'
}

# missing_letters OPTSTRING PAGE - the option letters not on the page
missing_letters() {
	opt_letters "$1" >letters &&
	fl_words "$2" >words &&
	awk 'FNR == NR { arg[$1] = $2; next }
	{ w[$0] = 1 }
	END {
		for (c in arg) {
			found = (c in w)
			for (word in w) {
				if (found)
					break
				# a cluster: only letters that take no argument
				if (length(word) < 2 || index(word, c) == 0)
					continue
				ok = 1
				for (i = 1; i <= length(word); i++) {
					l = substr(word, i, 1)
					if (!(l in arg) || arg[l] != 0)
						ok = 0
				}
				found = ok
			}
			if (!found)
				print "-" c
		}
	}' letters words
}

# o_suboptions MAIN_C - what PREFIX_option_o() handles, as the words
# the page must have ("oi", "od*", "oem", ...): a trailing "*" means
# "starts with"
o_suboptions() {
	awk '/^[a-z_]*_option_o\(/ { body = 1; next }
	body && /^}/ { exit }
	!body { next }
	/^\tcase \047.\047:/ {
		top = substr($0, index($0, "\047") + 1, 1)
		print "o" top "*"
		next
	}
	/^\t\tcase \047.\047:/ && top != "" {
		print "o" top substr($0, index($0, "\047") + 1, 1)
	}
	{
		s = $0
		while (match(s, /strcmp\(arg, "[^"]*"\)/)) {
			lit = substr(s, RSTART + 13, RLENGTH - 15)
			print "o" lit
			s = substr(s, RSTART + RLENGTH)
		}
	}' "$1" | sort -u
}

# missing_suboptions MAIN_C PAGE - the -o words not on the page
missing_suboptions() {
	o_suboptions "$1" >subopts &&
	fl_words "$2" >words &&
	test -s subopts || {
		echo "no -o sub-options found in $1"
		return 0
	}
	while IFS= read -r want; do
		case "$want" in
		*'*')	grep -q "^${want%?}" words ;;
		*)	grep -qx -- "$want" words ;;
		esac || echo "-$want"
	done <subopts
}

# conf_names CONF_C - the names in conf_params[], one a line
conf_names() {
	awk '/^static const struct conf_param conf_params\[\] = \{/ {
		on = 1
		next
	}
	on && /^};/ { exit }
	on && /^\t\{ "/ {
		s = $0
		sub(/^\t\{ "/, "", s)
		sub(/".*/, "", s)
		print s
	}' "$1"
}

# missing_params CONF_C PAGE - the parameters without an entry on PAGE
missing_params() {
	conf_names "$1" >params &&
	test -s params || {
		echo "no parameters found in $1"
		return 0
	}
	awk '/^\.It Va / { print $3 }' "$2" >entries &&
	awk 'FNR == NR { have[$1] = 1; next } !($1 in have)' entries params
}

# xr_check NAME SEC LINE HOSTDB - mandoc found no file for the reference
# NAME(SEC): a complaint on stdout when it is correo's own page in the
# wrong section or a correo.* page that does not exist, a note on fd 3
# (the TAP stream, as a comment) when it is a correo program's page not
# written yet, or another package's page that this host lacks (HOSTDB
# 0), nothing when the host's mandoc.db claims to have it (HOSTDB 1).
xr_check() {
	if [ -f "$MAN_DIR/$1.$2" ]; then
		return 0
	elif ls "$MAN_DIR/$1".[0-9] >/dev/null 2>&1; then
		printf '%s (the page is %s)\n' "$3" \
		    "$(cd "$MAN_DIR" && ls "$1".[0-9] | tr '\n' ' ')"
	elif [ -d "$CMD_DIR/$1" ] || [ "$1" = aliases ]; then
		echo "# $1($2): correo's page is not written yet" >&3
	else
		case "$1" in
		correo*) printf '%s\n' "$3" ;;
		*) [ "$4" = 1 ] ||
		    echo "# $1($2): not installed on this host" >&3 ;;
		esac
	fi
}

# lint_page PAGE - mandoc -Tlint's complaints about one page, on stdout
lint_page() {
	(cd "$MAN_DIR" && mandoc -Tlint "$1") >lint.out 2>lint.err
	cat lint.out lint.err | while IFS= read -r line; do
		case "$line" in
		*"STYLE: referenced manual not found: Xr "*)
			set -- $(printf '%s\n' "$line" |
			    sed 's/.*not found: Xr \([^ ]*\) \([^ ]*\).*/\1 \2/')
			xr_check "$1" "$2" "$line" 0 ;;
		"mandoc: outdated mandoc.db lacks "*" entry, run makewhatis "*)
			set -- $(printf '%s\n' "$line" |
			    sed 's/.*lacks \(.*\)(\(.*\)) entry.*/\1 \2/')
			xr_check "$1" "$2" "$line" 1 ;;
		*)	printf '%s\n' "$line" ;;
		esac
	done
}

for page in "$MAN_DIR"/*.[0-9]; do
	[ -f "$page" ] || continue
	name=$(basename "$page")
	test_expect_success MANDOC "mandoc -Tlint $name prints nothing" '
		lint_page "$name" >problems &&
		test_cmp /dev/null problems
	'
done

for main in "$CMD_DIR"/*/main.c; do
	[ -f "$main" ] || continue
	prog=$(basename "$(dirname "$main")")
	page=
	for p in "$MAN_DIR/$prog".[158]; do
		[ -f "$p" ] && page=$p && break
	done
	[ -n "$page" ] || continue
	if grep -q 'getopt\(_long\)\{0,1\}(' "$main"; then
		test_expect_success "every option of $prog is on $(basename "$page")" '
			opts=$(optstring "$main") &&
			test -n "$opts" &&
			echo "optstring: $opts" &&
			missing_letters "$opts" "$page" >missing &&
			test_cmp /dev/null missing
		'
	fi
	if grep -q '^[a-z_]*_option_o(' "$main"; then
		test_expect_success "every -o option of $prog is on $(basename "$page")" '
			missing_suboptions "$main" "$page" >missing &&
			cat subopts &&
			test_cmp /dev/null missing
		'
	fi
done

if [ -f "$SRC_DIR/common/conf.c" ] && [ -f "$MAN_DIR/correo.conf.5" ]; then
	test_expect_success 'every parameter of conf_params[] is on correo.conf.5' '
		missing_params "$SRC_DIR/common/conf.c" \
		    "$MAN_DIR/correo.conf.5" >missing &&
		test_cmp /dev/null missing
	'
fi

test_done
