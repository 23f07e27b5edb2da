#!/bin/sh
# demo.sh BUILD - README's first command (make demo).
#
# Submits a few messages the way real clients do -- cron, mutt, a PHP
# form, a -t message with a Bcc -- as an ordinary user into a private
# sandbox (its own correo.conf and spool in a temporary directory), then
# shows the queue (mailq), the mail log and one queued message as it
# will be sent (mailq -c).  As root the submissions run as the user
# "nobody", so nothing here needs or uses privilege.  Delivery (runq)
# and the SMTP server arrive with their own issues; until then the
# messages wait in the queue, which is what this demo shows.
set -eu
build=$(cd "${1:-build}" && pwd)
sandbox=$(mktemp -d "${TMPDIR:-/tmp}/correo-demo.XXXXXX")
chmod 755 "$sandbox"

as_user=
user=$(id -un)
if [ "$(id -u)" = 0 ]; then
	user=nobody
	as_user="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
	chown nobody "$sandbox"
fi

run() {
	# The environment a user's shell would have, plus the sandbox.
	env -i PATH="$build:/usr/bin:/bin" CORREO_CONFIG="$sandbox/correo.conf" \
	    HOME="$sandbox" $as_user "$@"
}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

cat >"$sandbox/correo.conf" <<EOF
# A private sandbox: everything below belongs to $user.
myhostname = mail1.example.org
mydomain = example.org
myorigin = \$mydomain
queue_directory = $sandbox/spool
daemon_directory = $build
maillog_file = $sandbox/maillog
mail_owner = $user
EOF
chmod 644 "$sandbox/correo.conf"

say "correo.conf ($sandbox/correo.conf)"
cat "$sandbox/correo.conf"

say "cron: sendmail -FCronDaemon -i -B8BITMIME -oem root"
printf 'Subject: Cron <root@mail1> /usr/local/bin/backup\n\nbackup finished: 42 files\n' |
	run sendmail -odq -FCronDaemon -i -B8BITMIME -oem root
echo "exit status $?"

say "mutt: sendmail -oem -oi -B8BITMIME -f alice@example.org -- bob@mail2.example.net"
printf 'From: Alice <alice@example.org>\nTo: bob@mail2.example.net\nSubject: lunch?\n\nAt noon.\n' |
	run sendmail -odq -oem -oi -B8BITMIME -f alice@example.org -- bob@mail2.example.net
echo "exit status $?"

say "PHP mail(): sendmail -t -i -f www@example.org (CRLF headers, LF body)"
printf 'To: webmaster\r\nSubject: contact form\r\n\r\nname: Zoe\nmessage: hello\n' |
	run sendmail -odq -t -i -f www@example.org
echo "exit status $?"

say "bsd-mailx: sendmail -i -t (a Bcc: line, no From/Date/Message-ID)"
printf 'To: carol@mail2.example.net\nBcc: audit@example.org\nSubject: report\n\nsee attached\n' |
	run sendmail -odq -i -t
echo "exit status $?"

say "a bad one: a NUL byte is refused (exit 65) and nothing is queued"
printf 'Subject: bad\n\na\000b\n' | run sendmail -odq bob@example.org || echo "exit status $?"

say "mailq"
run mailq || true

say "the mail log ($sandbox/maillog)"
cat "$sandbox/maillog"

id=$(ls "$sandbox/spool/incoming" | sort | sed -n 4p)
say "mailq -c $id (the bsd-mailx message as it will be sent: Bcc gone, headers added)"
run mailq -c "$id" || true

say "done"
echo "The sandbox stays in $sandbox; remove it with: rm -rf $sandbox"
