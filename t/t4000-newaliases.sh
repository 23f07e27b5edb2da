#!/bin/sh
test_description='newaliases: build alias_database, -m, -A, -q; errors keep the old database'
. "$(dirname "$0")/test-lib.sh"

test_config alias_database "hash:$TRASH/aliases"

test_lazy_prereq CDB 'command -v cdb'

# no_temporaries - no FILE.cdb.tmp.PID is left in the trash directory
no_temporaries() {
	ls "$TRASH" | grep '\.cdb\.tmp\.' && return 1
	return 0
}

test_expect_success 'build alias_database and look names up' '
	cat >aliases <<-\EOF &&
	# the aliases file
	postmaster: root
	Root: jane,
	    joe@example.org
	"Two Words": "|/usr/bin/procmail -a x,y", /var/log/copy
	EOF
	newaliases 2>err &&
	test_cmp /dev/null err &&
	test_path_is_file aliases.cdb &&
	no_temporaries &&
	newaliases -q root >out &&
	echo "jane, joe@example.org" >expect &&
	test_cmp expect out &&
	newaliases -q ROOT >out &&
	test_cmp expect out &&
	newaliases -q "two words" >out &&
	echo "\"|/usr/bin/procmail -a x,y\", /var/log/copy" >expect &&
	test_cmp expect out
'

test_expect_success '-q: exit 1 when no map has the key, nothing printed' '
	test_expect_code 1 newaliases -q nosuchname >out &&
	test_cmp /dev/null out
'

test_expect_success CDB 'tinycdb reads the database' '
	cdb -q aliases.cdb postmaster >out &&
	printf root >expect &&
	test_cmp expect out
'

test_expect_success '-v says what was built; the mail log has it too' '
	newaliases -v 2>err &&
	test_grep "hash:$TRASH/aliases: 3 entries" err &&
	test_grep "newaliases\[[0-9]+\]: hash:$TRASH/aliases: 3 entries" maillog
'

test_expect_success 'a syntax error names file and line, exits 65, keeps the old database' '
	cp aliases.cdb old.cdb &&
	cp aliases good &&
	test_when_finished "cp good aliases" &&
	cat >>aliases <<-\EOF &&
	new: someone
	this line has no colon
	EOF
	test_expect_code 65 newaliases 2>err &&
	test_grep "^newaliases: error: $TRASH/aliases, line 7: missing colon after alias name" err &&
	test_grep "database not changed" err &&
	test_grep "error: $TRASH/aliases, line 7: missing colon" maillog &&
	cmp old.cdb aliases.cdb &&
	no_temporaries &&
	test_expect_code 1 newaliases -q new
'

# syntax_error LINE MESSAGE - newaliases fails on the aliases file with
# this message for this line
syntax_error() {
	test_expect_code 65 newaliases 2>err &&
	test_grep "^newaliases: error: $TRASH/aliases, line $1: $2" err
}

test_expect_success 'more syntax errors, each with its line' '
	test_when_finished "cp good aliases" &&
	echo "x@example.org: y" >aliases &&
	syntax_error 1 "alias name must be local: x@example.org" &&
	printf "a: b, \"c\n" >aliases &&
	syntax_error 1 "unterminated quoted string" &&
	printf "ok: y\n  leading: space\nbad\n" >aliases &&
	syntax_error 3 "missing colon" &&
	printf "  leading: space\n" >aliases &&
	syntax_error 1 "continuation line" &&
	printf "a: b\nc: |  \n" >aliases &&
	syntax_error 2 "empty command after \\|" &&
	printf "a:\n" >aliases &&
	syntax_error 1 "missing value after \"a:\"" &&
	printf "a: :include:\n" >aliases &&
	syntax_error 1 "missing file name after :include:" &&
	printf "a: b\001\n" >aliases &&
	syntax_error 1 "control character \(0x01\) in line"
'

test_expect_success 'a missing source: exit 66, the message names it' '
	test_expect_code 66 newaliases -o alias_database=hash:$TRASH/nosuch 2>err &&
	test_grep "open $TRASH/nosuch: No such file or directory" err
'

test_expect_success '-q on a map never built: exit 66, the advice is newaliases' '
	echo "a: b" >unbuilt &&
	test_expect_code 66 newaliases -q a hash:$TRASH/unbuilt 2>err &&
	test_grep "open database $TRASH/unbuilt.cdb: No such file or directory \(run \"newaliases\" to build it" err
'

test_expect_success 'no postmaster alias: a warning on stderr and in the mail log' '
	test_when_finished "cp good aliases" &&
	echo "root: jane" >aliases &&
	: >maillog &&
	newaliases 2>err &&
	test_grep "^newaliases: warning: $TRASH/aliases: postmaster alias missing: RFC 5321 requires one" err &&
	test_grep "warning: $TRASH/aliases: postmaster alias missing" maillog &&
	echo "Postmaster: root" >>aliases &&
	newaliases 2>err &&
	test_cmp /dev/null err
'

test_expect_success 'duplicate names: a warning naming both lines, the last wins' '
	test_when_finished "cp good aliases" &&
	printf "postmaster: root\nroot: jane\nROOT: joe\n" >aliases &&
	newaliases 2>err &&
	test_grep "warning: $TRASH/aliases, line 3: duplicate entry \"root\" \(also at line 2\): the last one wins" err &&
	newaliases -q root >out &&
	echo joe >expect &&
	test_cmp expect out
'

test_expect_success '-m builds a postmap-format table; -m -q queries it' '
	cat >virtual <<-\EOF &&
	# virtual_alias_maps
	Info@Example.ORG   jane, joe
	@example.net       jane
	EOF
	newaliases -m hash:$TRASH/virtual 2>err &&
	test_cmp /dev/null err &&
	test_path_is_file virtual.cdb &&
	newaliases -m -q info@example.org hash:$TRASH/virtual >out &&
	echo "jane, joe" >expect &&
	test_cmp expect out &&
	newaliases -q @example.net -m "$TRASH/virtual" >out &&
	echo jane >expect &&
	test_cmp expect out
'

test_expect_success '-m: a line without a value is an error with its line' '
	printf "a b\nlonely\n" >bad &&
	test_expect_code 65 newaliases -m hash:$TRASH/bad 2>err &&
	test_grep "$TRASH/bad, line 2: expected format: key whitespace value" err &&
	test_path_is_missing bad.cdb
'

test_expect_success '-q looks in the maps in order; texthash, static and inline need no database' '
	echo "k first" >t1 &&
	echo "k second" >t2 &&
	newaliases -m -q k texthash:$TRASH/t1 texthash:$TRASH/t2 >out &&
	echo first >expect &&
	test_cmp expect out &&
	newaliases -m -q other "inline:{ a=b, { other = x y } }" >out &&
	echo "x y" >expect &&
	test_cmp expect out &&
	newaliases -m -q anything static:5000 >out &&
	echo 5000 >expect &&
	test_cmp expect out &&
	test_path_is_missing t1.cdb
'

test_expect_success 'an unsupported map type: named, an error; in alias_database, skipped' '
	test_expect_code 78 newaliases -q x nis:mail.aliases 2>err &&
	test_grep "map type nis is not supported by correo" err &&
	test_expect_code 64 newaliases ldap:/etc/x.cf 2>err &&
	test_grep "map type ldap is not supported by correo" err &&
	newaliases -o "alias_database=nis:mail.aliases hash:$TRASH/aliases" 2>err &&
	test_grep "warning: alias_database: nis:mail.aliases: map type nis is not supported by correo: skipped" err
'

test_expect_success '-A FILE builds FILE (hash:FILE) instead of alias_database' '
	printf "postmaster: root\nother: x\n" >other &&
	rm -f aliases.cdb &&
	newaliases -A "$TRASH/other" &&
	test_path_is_file other.cdb &&
	test_path_is_missing aliases.cdb &&
	newaliases -A "$TRASH/other" -q other >out &&
	echo x >expect &&
	test_cmp expect out &&
	rm other.cdb &&
	newaliases -A "cdb:$TRASH/other" &&
	test_path_is_file other.cdb
'

test_expect_success 'sendmail -bi runs newaliases; -oAFILE passes -A FILE' '
	rm -f aliases.cdb other.cdb &&
	sendmail -bi &&
	test_path_is_file aliases.cdb &&
	test_path_is_missing other.cdb &&
	sendmail -oA"$TRASH/other" -bi &&
	test_path_is_file other.cdb &&
	printf "postmaster: root\nbroken\n" >other &&
	test_expect_code 65 sendmail -oA"$TRASH/other" -bi 2>err &&
	test_grep "other, line 2: missing colon" err
'

test_expect_success 'the database mode follows the source: 0600 for a private file' '
	printf "smtp.example.org user:secret\n" >sasl_passwd &&
	chmod 600 sasl_passwd &&
	newaliases -m hash:$TRASH/sasl_passwd &&
	test "$(stat -c %a sasl_passwd.cdb)" = 600 &&
	chmod 644 aliases &&
	(umask 077 && newaliases) &&
	test "$(stat -c %a aliases.cdb)" = 644
'

test_expect_success NOT_ROOT 'an unwritable directory: exit 73, the old database stays' '
	mkdir ro &&
	printf "postmaster: root\n" >ro/aliases &&
	newaliases -A "$TRASH/ro/aliases" &&
	cp ro/aliases.cdb ro-old.cdb &&
	printf "postmaster: jane\n" >ro/aliases &&
	chmod 555 ro &&
	test_when_finished "chmod 755 ro" &&
	test_expect_code 73 newaliases -A "$TRASH/ro/aliases" 2>err &&
	test_grep "create $TRASH/ro/aliases.cdb.tmp.[0-9]+: Permission denied" err &&
	cmp ro-old.cdb ro/aliases.cdb
'

test_expect_success 'a stale database: -q warns that the text is newer' '
	printf "postmaster: root\n" >aliases &&
	newaliases &&
	touch -d "+1 hour" aliases &&
	newaliases -q postmaster 2>err >out &&
	test_grep "$TRASH/aliases is newer than its database" err
'

test_expect_success 'usage errors exit 64' '
	test_expect_code 64 newaliases -x 2>err &&
	test_grep "unknown option -x" err &&
	test_expect_code 64 newaliases -q 2>err &&
	test_grep "\-q needs an argument" err &&
	test_expect_code 64 newaliases -m 2>err &&
	test_expect_code 64 newaliases -A x hash:y 2>err &&
	test_expect_code 64 newaliases -o nonsense 2>err &&
	test_expect_code 64 newaliases notype:x 2>err
'

test_done
