#!/bin/sh
# demo.sh BUILD - README's first command (make demo).
#
# Submits a few messages the way real clients do -- cron, mutt, a PHP
# form, a -t message with a Bcc -- as an ordinary user into a private
# sandbox (its own correo.conf and spool in a temporary directory), then
# delivers them with runq: local mail into an mbox and a Maildir, through
# aliases, with a bounce for an unknown user; remote mail goes to the
# SMTP client, whose relayhost here is a closed loopback port, so it
# waits in the queue with the connection's error (a second sandboxed
# domain that takes it arrives with smtpd-lite).  It shows the
# queue (mailq), the mail log and the delivered mailbox.  As root
# everything runs as the user "nobody", so nothing here needs or uses
# privilege.
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
mydestination = \$myhostname, \$mydomain, localhost
queue_directory = $sandbox/spool
daemon_directory = $build
maillog_file = $sandbox/maillog
mail_owner = $user
mail_spool_directory = $sandbox/mail
alias_maps = hash:$sandbox/aliases
alias_database = hash:$sandbox/aliases
recipient_delimiter = +
virtual_mailbox_domains = mail2.example.net
virtual_mailbox_base = $sandbox/vmail
virtual_mailbox_maps = inline:{ carol@mail2.example.net=carol/ }
virtual_uid_maps = static:$(id -u $user)
virtual_gid_maps = static:$(id -g $user)
# remote mail: a smarthost that is not there (nothing asks the DNS)
relayhost = [127.0.0.1]:2
EOF
mkdir -p "$sandbox/mail" "$sandbox/vmail"
cat >"$sandbox/aliases" <<EOF
# root's mail goes to the user running the demo
postmaster: root
root: $user
webmaster: $user
EOF
chown -R "$user" "$sandbox" 2>/dev/null || true
chmod 644 "$sandbox/correo.conf"

say "correo.conf ($sandbox/correo.conf)"
cat "$sandbox/correo.conf"

say "newaliases (aliases: root and webmaster go to $user)"
run newaliases -v

say "cron: sendmail -FCronDaemon -i -B8BITMIME -oem root"
printf 'Subject: Cron <root@mail1> /usr/local/bin/backup\n\nbackup finished: 42 files\n' |
	run sendmail -FCronDaemon -i -B8BITMIME -oem root
echo "exit status $?"

say "mutt: sendmail -oem -oi -B8BITMIME -f alice@example.org -- carol@mail2.example.net"
printf 'From: Alice <alice@example.org>\nTo: carol@mail2.example.net\nSubject: lunch?\n\nAt noon.\n' |
	run sendmail -oem -oi -B8BITMIME -f alice@example.org -- carol@mail2.example.net
echo "exit status $?"

say "PHP mail(): sendmail -t -i -f www@example.org (CRLF headers, LF body)"
printf 'To: webmaster\r\nSubject: contact form\r\n\r\nname: Zoe\nmessage: hello\n' |
	run sendmail -t -i -f www@example.org
echo "exit status $?"

say "bsd-mailx: sendmail -i -t (a Bcc: line, no From/Date/Message-ID)"
printf 'To: bob@remote.example.com\nBcc: webmaster\nSubject: report\n\nsee attached\n' |
	run sendmail -i -t
echo "exit status $?"

say "an unknown local user: accepted, then bounced by runq (5.1.1) to the sender"
printf 'Subject: typo\n\nhello?\n' | run sendmail -f "$user@mail1.example.org" nosuchuser
echo "exit status $?"

say "a bad one: a NUL byte is refused (exit 65) and nothing is queued"
printf 'Subject: bad\n\na\000b\n' | run sendmail bob@example.org || echo "exit status $?"

say "runq: sendmail started it after each message; one more pass, once those are done"
i=0
while [ $i -lt 50 ] && run mailq -j 2>/dev/null | grep -q '"queue_name": "\(incoming\|active\)"'; do
	sleep 0.1
	i=$((i + 1))
done
run runq -v || true

say "mailq: what is still queued (the remote recipient waits)"
run mailq || true

say "the mail log ($sandbox/maillog)"
cat "$sandbox/maillog"

say "the mbox of $user ($sandbox/mail/$user): cron, the PHP form, the bounce"
cat "$sandbox/mail/$user"

say "carol's Maildir ($sandbox/vmail/carol/new)"
for f in "$sandbox"/vmail/carol/new/*; do echo "--- $f"; cat "$f"; done

say "done"
echo "The sandbox stays in $sandbox; remove it with: rm -rf $sandbox"
