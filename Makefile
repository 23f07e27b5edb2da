# correo -- one GNU Makefile, no autotools.
#
# make              build build/{sendmail,mailq,newaliases,runq,smtpd-lite}
# make check        the whole test suite under prove
# make asan         the suite again, built with ASan+UBSan (in build-asan/)
# make lint         layering and banned-function checks
# make fuzz         run every fuzz target for FUZZ_SECONDS (needs clang)
# make demo         README's first command
# make bench        benchmarks against Postfix and the physical floor
# make install      DESTDIR=... PREFIX=...
# make deb          build/correo_VERSION_ARCH.deb from the same manifest

CC		?= cc
CFLAGS		?= -O2 -g
LDFLAGS		?=
PKG_CONFIG	?= pkg-config
PROVE		?= prove
BUILD		?= build
PREFIX		?= /usr
DESTDIR		?=
FUZZ_SECONDS	?= 60
JOBS		?= $(shell nproc 2>/dev/null || echo 2)

WARN		= -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
		  -Wmissing-prototypes -Wstrict-prototypes -Werror
DEFS		= -D_GNU_SOURCE -DCORREO_VERSION='"$(VERSION)"'
VERSION		= 0.1

SSL_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags openssl 2>/dev/null)
SSL_LIBS	:= $(shell $(PKG_CONFIG) --libs openssl 2>/dev/null || echo -lssl -lcrypto)
IDN_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags libidn2 2>/dev/null)
IDN_LIBS	:= $(shell $(PKG_CONFIG) --libs libidn2 2>/dev/null || echo -lidn2)

ALL_CFLAGS	= $(WARN) $(DEFS) -I. $(SSL_CFLAGS) $(IDN_CFLAGS) -MMD -MP $(CFLAGS)

COMMON_SRC	:= $(sort $(wildcard common/*.c))
SPOOL_SRC	:= $(sort $(wildcard spool/*.c))
COMMON_OBJ	:= $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
SPOOL_OBJ	:= $(SPOOL_SRC:%.c=$(BUILD)/obj/%.o)
LIBCOMMON	:= $(BUILD)/libcommon.a
LIBSPOOL	:= $(BUILD)/libspool.a

PROGS		:= sendmail mailq newaliases runq smtpd-lite
PROG_BINS	:= $(PROGS:%=$(BUILD)/%)

# Per-program libraries.  sendmail and mailq must not link OpenSSL: a
# start-up of libcrypto costs more than the rest of a submission.  libidn2
# is loaded at run time by common/idn.c only when a domain needs it.
# libcrypt is for common/sasl.c (passwd-file hashes): of the programs,
# smtpd-lite only; the unit tests, the helper and the fuzz targets too.
LIBS_sendmail	:= -ldl
LIBS_mailq	:= -ldl
LIBS_newaliases	:= -lcdb -ldl
LIBS_runq	:= -lcdb $(SSL_LIBS) -lresolv -ldl
LIBS_smtpd-lite	:= -lcdb -lresolv -ldl -lcrypt

# smtpd-lite is not linked with OpenSSL either: it loads the server side
# of common/tls.c from smtpd-tls.so when a session first needs TLS
# (cmd/smtpd-lite/tlsload.c).  The module is built from position-
# independent objects with hidden visibility; it exports one table.
TLSMOD		:= $(BUILD)/smtpd-tls.so
TLSMOD_SRC	:= cmd/smtpd-lite/module/smtpd-tls.c common/tls.c \
		   common/buf.c common/util.c common/log.c
TLSMOD_OBJ	:= $(TLSMOD_SRC:%.c=$(BUILD)/pic/%.o)

# runq's modules other than main.c, as a library the unit tests link.
RUNQ_LIB_SRC	:= $(filter-out cmd/runq/main.c,$(sort $(wildcard cmd/runq/*.c)))
RUNQ_LIB_OBJ	:= $(RUNQ_LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIBRUNQ		:= $(BUILD)/librunq.a

# smtpd-lite's modules that the unit tests and the helper link; the
# program itself links every cmd/smtpd-lite/*.c.
SMTPD_OBJS	:= $(BUILD)/obj/cmd/smtpd-lite/policy.o
LIBSMTPD	:= $(BUILD)/libsmtpd.a

UNIT_SRC	:= $(sort $(wildcard t/unit/t-*.c))
UNIT_BINS	:= $(UNIT_SRC:t/unit/%.c=$(BUILD)/t/unit/%)
TAP_OBJ		:= $(BUILD)/obj/t/unit/tap.o $(BUILD)/obj/t/unit/certs.o
HELPER		:= $(BUILD)/correo-test
HELPER_SRC	:= $(sort $(wildcard t/helper/*.c))
FLOOR		:= $(BUILD)/bench-floor

FUZZ_SRC	:= $(sort $(wildcard t/fuzz/fuzz-*.c))
FUZZ_BINS	:= $(FUZZ_SRC:t/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_CC		?= clang
FUZZ_FLAGS	= -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
		  -D_GNU_SOURCE -DCORREO_VERSION='"$(VERSION)"' -I.

.PHONY: all check test asan lint fuzz fuzz-build demo bench install \
	clean units deps deb

all: $(PROG_BINS) $(TLSMOD) $(HELPER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(TLSMOD): $(TLSMOD_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,--no-undefined -o $@ $^ \
		$(SSL_LIBS)

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBSPOOL): $(SPOOL_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
$(PROG_BINS): $(BUILD)/%: $$(addprefix $(BUILD)/obj/,$$(subst .c,.o,$$(wildcard cmd/$$*/*.c))) \
		$(LIBSPOOL) $(LIBCOMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBSPOOL) \
		$(LIBCOMMON) $(LIBS_$*)

$(LIBRUNQ): $(RUNQ_LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^ $(if $(RUNQ_LIB_OBJ),,&& :)

$(LIBSMTPD): $(SMTPD_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/t/unit/%: $(BUILD)/obj/t/unit/%.o $(TAP_OBJ) $(LIBSMTPD) $(LIBRUNQ) \
		$(LIBSPOOL) $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TAP_OBJ) $(LIBSMTPD) $(LIBRUNQ) \
		$(LIBSPOOL) $(LIBCOMMON) -lcdb $(SSL_LIBS) -lresolv -ldl -lcrypt

$(HELPER): $(HELPER_SRC:%.c=$(BUILD)/obj/%.o) $(LIBSMTPD) $(LIBRUNQ) \
		$(LIBSPOOL) $(LIBCOMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBSMTPD) \
		$(LIBRUNQ) $(LIBSPOOL) $(LIBCOMMON) -lcdb $(SSL_LIBS) -lresolv \
		-ldl -lcrypt

# The physical floor for bench/submit: write, fsync, rename, fsync dir.
$(FLOOR): bench/floor.c
	$(CC) -O2 -static -o $@ $< 2>/dev/null || $(CC) -O2 -o $@ $<

$(BUILD)/fuzz/%: t/fuzz/%.c $(COMMON_SRC) $(SPOOL_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(IDN_CFLAGS) $(SSL_CFLAGS) -o $@ $< \
		$(COMMON_SRC) $(SPOOL_SRC) $(SSL_LIBS) -lresolv -ldl -lcrypt

# fuzz-smtpd runs sessions in-process: smtpd-lite's modules but main.c
# (the target stands in for smtpd_session).  --wrap: the client acts
# inside the server's poll(2), sleep(3) takes no time, and the target
# sees where each line sio_getline() reads starts (t/fuzz/fuzz-smtpd.c).
SMTPD_FUZZ_SRC	:= $(filter-out cmd/smtpd-lite/main.c cmd/smtpd-lite/tlsload.c,$(sort $(wildcard cmd/smtpd-lite/*.c)))
SMTPD_FUZZ_WRAP	:= -Wl,--wrap=poll,--wrap=sleep,--wrap=sio_getline

$(BUILD)/fuzz/fuzz-smtpd: t/fuzz/fuzz-smtpd.c $(SMTPD_FUZZ_SRC) \
		$(wildcard cmd/smtpd-lite/*.h) $(COMMON_SRC) $(SPOOL_SRC)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(IDN_CFLAGS) $(SSL_CFLAGS) \
		$(SMTPD_FUZZ_WRAP) -o $@ $< $(SMTPD_FUZZ_SRC) $(COMMON_SRC) \
		$(SPOOL_SRC) -lcdb $(SSL_LIBS) -lresolv -ldl -lcrypt

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh t/fuzz/run.sh $(BUILD)

units: $(UNIT_BINS)

deps:
	@sh .ci/deps build

check:
	@sh .ci/deps test
	$(MAKE) all units
	CORREO_BUILD=$(abspath $(BUILD)) CORREO_ASAN=$(CORREO_ASAN) $(PROVE) -j$(JOBS) \
		$(UNIT_BINS) $(sort $(wildcard t/t[0-9]*.sh))

test: check

asan:
	$(MAKE) BUILD=build-asan \
		CFLAGS='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' CORREO_ASAN=1 check

lint:
	sh t/lint-src.sh

demo:
	@sh .ci/deps build
	$(MAKE) all
	sh t/demo.sh $(BUILD)

bench: all $(FLOOR)
	sh bench/submit $(BUILD)

install: all
	sh etc/install.sh "$(DESTDIR)" "$(PREFIX)" "$(BUILD)"

deb: all
	sh etc/mkdeb.sh "$(BUILD)"

clean:
	rm -rf build build-asan t/trash*

-include $(shell find $(BUILD)/obj $(BUILD)/pic -name '*.d' 2>/dev/null)
