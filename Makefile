# s3root - boot Linux from an EROFS image in S3.
#
#   make                 build/s3root, static (musl) with BearSSL
#   make TLS=mbedtls     build-mbedtls/s3root, static with mbedTLS (built
#                        from Debian's source package; every target below
#                        takes TLS=mbedtls too)
#   make check           deps if missing, build, unit + shell + fuzz smoke tests
#   make check SAN=1     the same sources as a dynamic glibc build under
#                        ASan + UBSan (build-san/)
#   make fuzz            each libFuzzer target for FUZZ_TIME seconds
#   make soak            serve under fio with faults for SOAK_TIME seconds:
#                        byte checks and the RSS curve (tests/sh/soak.sh)
#   make valgrind        the same, shorter (VG_TIME), under valgrind
#                        --leak-check=full on a dynamic glibc build
#                        (GLIBC=1, build-glibc/)
#   make fmt             clang-format every source file
#   make lint-sh         shellcheck every shell script (part of check)
#   make bench           bench/run.sh: s3root against nbdkit and curl through
#                        a latency shaper, then bench/boot.sh: a systemd
#                        root booted through it (not part of check; see
#                        bench/); make bench-boot: the boots alone
#   make install         $(DESTDIR)$(PREFIX)/sbin/s3root (PREFIX=/usr/local)
#                        and the manual pages s3root(8), mkinitramfs-s3root(8)
#   make man             man/s3root.8's OPTIONS from the option table (what
#                        build/s3root help-options --man prints; make check
#                        fails when they differ: tests/sh/test-man.sh)
#   make install-initramfs-tools
#                        s3root and its initramfs-tools hook and scripts
#                        (then: update-initramfs -u)
#   make install-dracut  s3root and its dracut module 90s3root (then:
#                        dracut -f)
#   make check-distro    boots initramfs images built by Debian's mkinitramfs
#                        and dracut with the hook and module (minutes; not
#                        part of check)
#   make deps            install the Debian packages the build and tests need
#   make ARCH=arm64      build-arm64/s3root, a cross build (arm64, armhf;
#                        riscv64 with CROSS_COMPILE= and BEARSSL_DIR=): Debian's
#                        musl-dev:ARCH and libbearssl-dev:ARCH (make deps
#                        ARCH=...); `make ARCH=... check` runs its unit tests
#                        under qemu-user
#   make check-cross     the armhf unit tests under qemu-user, the arm64 build
#                        booted from S3 in qemu-system-aarch64
#   make check-outage    a systemd root through two S3 outages (a black hole,
#                        then refused) of CHECK_OUTAGE_SECS (600) each; make
#                        check runs it at OUTAGE_SECS (300; 0: not)
#   CROSS_COMPILE=PFX    a board toolchain (Buildroot, Yocto; musl) for ARCH=
#   BEARSSL_DIR=DIR      link BearSSL from a source tree instead of Debian's
#   MBEDTLS_DIR=DIR      build mbedTLS 2.28 from this source tree instead
#   CHECK_LINT=0         check leaves out fmt-check and lint-sh (CI: after
#                        its first suite, on the same tree)
#   V=1                  show the commands

TLS ?= bearssl
SAN ?= 0
FUZZ ?= 0
GLIBC ?= 0
V ?= 0
FUZZ_TIME ?= 600
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
INITRAMFS_TOOLS_DIR ?= /usr/share/initramfs-tools
DRACUT_MODULES_DIR ?= /usr/lib/dracut/modules.d
DRACUT_CONF_DIR ?= /etc/dracut.conf.d
DEMO_SHELL ?= 0
SMOKE_TIME ?= 10
OUTAGE_SECS ?= 300
CHECK_OUTAGE_SECS ?= 600
CHECK_LINT ?= 1

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
	-fno-common
CSTD := -std=gnu11 -D_GNU_SOURCE
# Each TLS backend and each ARCH builds in its own directories, so all the
# builds coexist.
TLS_SUFFIX := $(if $(filter mbedtls,$(TLS)),-mbedtls)

# Cross builds. ARCH_GNU is Debian's multiarch triplet (libbearssl.a and the
# cross binutils), ARCH_MUSL the musl-dev:ARCH compiler wrapper around
# Debian's cross gcc, ARCH_QEMU the qemu-user runner for the unit tests.
# An ARCH exported for kernel builds (x86_64, arm64...) is not ours: only
# make ARCH=... picks a cross build.
ifeq ($(origin ARCH),environment)
ARCH :=
endif
ARCH ?=
ifeq ($(ARCH),)
ifeq ($(origin CROSS_COMPILE),command line)
$(error CROSS_COMPILE needs ARCH= (arm64, armhf or riscv64))
endif
else ifeq ($(ARCH),arm64)
ARCH_GNU := aarch64-linux-gnu
ARCH_MUSL := aarch64-linux-musl
ARCH_QEMU := qemu-aarch64-static
else ifeq ($(ARCH),armhf)
ARCH_GNU := arm-linux-gnueabihf
ARCH_MUSL := arm-linux-musleabihf
ARCH_QEMU := qemu-arm-static
else ifeq ($(ARCH),riscv64)
# Debian 12 has no riscv64 musl or BearSSL: the board's toolchain and a
# BearSSL tree built with it
ARCH_GNU := riscv64-linux-gnu
ARCH_QEMU := qemu-riscv64-static
else
$(error ARCH=$(ARCH) is not known: arm64, armhf or riscv64)
endif
ifneq ($(ARCH),)
ifneq ($(SAN)$(FUZZ)$(GLIBC),000)
$(error SAN=1, FUZZ=1 and GLIBC=1 build for this machine, not ARCH=$(ARCH))
endif
ifeq ($(ARCH)$(BEARSSL_DIR)$(TLS),riscv64bearssl)
$(error ARCH=riscv64 needs BEARSSL_DIR= (or TLS=mbedtls))
endif
ifeq ($(ARCH)$(CROSS_COMPILE),riscv64)
$(error ARCH=riscv64 needs CROSS_COMPILE= (a musl toolchain))
endif
ARCH_SUFFIX := -$(ARCH)
ifdef CROSS_COMPILE
ARCH_CC := $(CROSS_COMPILE)gcc
else
CROSS_COMPILE := $(ARCH_GNU)-
ARCH_CC := $(ARCH_MUSL)-gcc
endif
ifeq ($(origin AR),default)
AR := $(CROSS_COMPILE)ar
endif
endif

ifeq ($(FUZZ),1)
# libFuzzer needs clang and glibc; the library is built with coverage only.
CC := clang
BUILD ?= build-fuzz
OPT := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -DS3ROOT_FUZZ
LDMODE := -fsanitize=fuzzer,address,undefined
else ifeq ($(SAN),1)
# Sanitizers and valgrind see nothing in a static musl binary: dynamic glibc.
CC := clang
BUILD ?= build-san$(TLS_SUFFIX)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
LDMODE := -fsanitize=address,undefined
else ifeq ($(GLIBC),1)
# valgrind sees no heap in a static musl binary: dynamic glibc, as built
CC := gcc
BUILD ?= build-glibc$(TLS_SUFFIX)
OPT := -O1 -g -fno-omit-frame-pointer
LDMODE :=
else
ifeq ($(origin CC),default)
CC := $(if $(ARCH),$(ARCH_CC),musl-gcc)
endif
BUILD ?= build$(TLS_SUFFIX)$(ARCH_SUFFIX)
OPT := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
LDMODE := -static -Wl,--gc-sections -s
endif

MULTIARCH ?= $(if $(ARCH),$(ARCH_GNU),$(shell gcc -print-multiarch 2>/dev/null))
ifeq ($(TLS),mbedtls)
# mbedTLS is built here, with this compiler and http/mbedtls_config.h, from
# MBEDTLS_DIR or else from Debian's source package (tests/deps.sh
# mbedtls-source): Debian's libmbedtls .a files are glibc objects with a
# configuration that shares CA keys unsafely between threads.
MBEDTLS_BUILD := $(BUILD)/mbedtls
MBEDTLS_SRC := $(if $(MBEDTLS_DIR),$(MBEDTLS_DIR),$(MBEDTLS_BUILD)/src)
MBEDTLS_CONFIG := -DMBEDTLS_USER_CONFIG_FILE='"http/mbedtls_config.h"'
TLS_CFLAGS := -I$(MBEDTLS_SRC)/include $(MBEDTLS_CONFIG)
TLS_LIB := $(MBEDTLS_BUILD)/libmbedtls.a
else ifdef BEARSSL_DIR
TLS_CFLAGS := -I$(BEARSSL_DIR)/inc
TLS_LIB := $(BEARSSL_DIR)/build/libbearssl.a
else ifneq ($(SAN)$(FUZZ)$(GLIBC),000)
TLS_CFLAGS :=
TLS_LIB := -lbearssl
else
TLS_CFLAGS := -I/usr/include/bearssl
TLS_LIB := /usr/lib/$(MULTIARCH)/libbearssl.a
endif

CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := $(CSTD) $(WARN) $(OPT) -I. -I$(BUILD) $(TLS_CFLAGS) \
	-MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(LDMODE) $(LDFLAGS)

LIB_SRCS := $(wildcard crypto/*.c) \
	$(filter-out http/tls_%.c,$(wildcard http/*.c)) \
	$(wildcard http/tls_$(TLS).c) \
	$(wildcard nbd/*.c) \
	$(wildcard util/*.c) \
	$(filter-out src/cli/main.c,$(wildcard src/*.c src/*/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))

LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
UNIT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRCS))
MAIN_OBJ := $(BUILD)/src/cli/main.o
ALL_OBJS := $(LIB_OBJS) $(UNIT_OBJS) $(MAIN_OBJ) \
	$(patsubst %.c,$(BUILD)/%.o,$(FUZZ_SRCS)) $(BUILD)/bench/tls_handshake.o \
	$(BUILD)/bench/nbd_attach.o

FMT_FILES := $(wildcard crypto/*.[ch] http/*.[ch] nbd/*.[ch] util/*.[ch] \
	src/*.[ch] src/*/*.[ch] \
	tests/unit/*.[ch] tests/fuzz/*.[ch] bench/*.[ch])

.PHONY: all check check-cross check-outage unit fuzz fuzz-bins fmt fmt-check lint-sh deps \
	deps-check demo mbedtls-lib bench bench-boot bench-tls soak valgrind \
	initramfs install install-initramfs-tools install-dracut check-distro man \
	clean FORCE
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BUILD)/s3root

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The version and the build time (the commit's time: reproducible, and the
# lower bound for certificate validation on boards without a clock). Each
# make writes its own temporary file (CI's check-outage starts beside
# make check).
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@v=$$(git describe --always --dirty 2>/dev/null || echo 0.1); \
	t=$$(git log -1 --format=%ct 2>/dev/null || echo 0); \
	printf '#define S3ROOT_VERSION "%s"\n#define S3ROOT_BUILD_TIME %sLL\n' \
		"$$v" "$$t" > $@.$$$$; \
	cmp -s $@.$$$$ $@ && rm -f $@.$$$$ || mv $@.$$$$ $@
$(BUILD)/src/base/self.o: $(BUILD)/version.h

$(BUILD)/libs3root.a: $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# BearSSL needs the fortify entry points of src/base/compat.c, which sits in
# libs3root.a: one group, so the archives resolve each other.
LIBS = -Wl,--start-group $(BUILD)/libs3root.a $(TLS_LIB) -Wl,--end-group

ifeq ($(TLS),mbedtls)
MBEDTLS_OBJS := $(patsubst $(MBEDTLS_SRC)/library/%.c,$(MBEDTLS_BUILD)/%.o,\
	$(wildcard $(MBEDTLS_SRC)/library/*.c))
$(BUILD)/http/tls_mbedtls.o: | $(MBEDTLS_SRC)/include/mbedtls/ssl.h
$(MBEDTLS_BUILD)/src/include/mbedtls/ssl.h:
	@$(if $(Q),echo "  FETCH   mbedtls (Debian source package)")
	$(Q)tests/deps.sh mbedtls-source $(MBEDTLS_BUILD)
ifeq ($(MBEDTLS_INNER),1)
$(MBEDTLS_BUILD)/%.o: $(MBEDTLS_SRC)/library/%.c http/mbedtls_config.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(OPT) -w -I$(MBEDTLS_SRC)/include -I. $(MBEDTLS_CONFIG) \
		-MMD -MP $(CFLAGS) -c -o $@ $<
$(TLS_LIB): $(MBEDTLS_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^
mbedtls-lib: $(TLS_LIB)
	@:
else
# the source tree may not exist yet when this file is read: a second make
# lists it
$(TLS_LIB): FORCE | $(MBEDTLS_SRC)/include/mbedtls/ssl.h
	$(Q)$(MAKE) --no-print-directory MBEDTLS_INNER=1 mbedtls-lib
endif
-include $(MBEDTLS_OBJS:.o=.d)
endif

$(BUILD)/s3root: $(MAIN_OBJ) $(BUILD)/libs3root.a $(filter %.a,$(TLS_LIB))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIBS)

$(BUILD)/unit: $(UNIT_OBJS) $(BUILD)/libs3root.a $(filter %.a,$(TLS_LIB))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(filter-out -s,$(ALL_LDFLAGS)) -o $@ $(UNIT_OBJS) $(LIBS)

$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/libs3root.a \
		$(filter %.a,$(TLS_LIB))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

# bench/tls.sh's handshake timer (any TLS backend).
$(BUILD)/tls_handshake: $(BUILD)/bench/tls_handshake.o $(BUILD)/libs3root.a \
		$(filter %.a,$(TLS_LIB))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

# bench/boot.sh's guest NBD client (static, like s3root: an initramfs has
# no libc).
$(BUILD)/nbd_attach: $(BUILD)/bench/nbd_attach.o $(BUILD)/libs3root.a \
		$(filter %.a,$(TLS_LIB))
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS)

# The boot workload alone (bench/README.md: BENCH_BOOT_*).
bench-boot: deps-check
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/shaper \
		$(BUILD)/nbd_attach
	$(Q)BUILD=$(BUILD) bench/boot.sh

# The BearSSL and the mbedTLS builds side by side (see bench/tls.sh).
bench-tls: deps-check
	$(Q)bench/tls.sh

unit: $(BUILD)/unit
	$(ARCH_QEMU) $(BUILD)/unit

# The cross build (ARCH=): its unit tests under qemu-user, and the tests
# that run s3root as a command (no kernel interface) with its binary under
# qemu-user against the suite's servers.
ifneq ($(ARCH),)
$(BUILD)/s3root-user: $(BUILD)/s3root
	$(Q)printf '#!/bin/sh\nexec %s %s "$$@"\n' $(ARCH_QEMU) \
		$(CURDIR)/$(BUILD)/s3root >$@ && chmod 755 $@

check: deps-check
	$(Q)$(MAKE) --no-print-directory fmt-check
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/unit $(BUILD)/s3root-user
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root-user UNIT_RUNNER=$(ARCH_QEMU) \
		TESTS="$(addprefix tests/sh/,test-sign-botocore.sh \
		test-http-source.sh test-s3-get.sh)" tests/run.sh $(BUILD)/unit
else
# The whole suite. CI=true turns skips of what `make deps` provides into
# failures (tests/sh/functions.sh). The VM tests boot the static binary of
# this build; a test's "# suites:" line says in which of the BearSSL,
# mbedTLS and SAN=1 runs it is worth its time (tests/run.sh); the VM tests
# are not run under SAN=1, which would boot the BearSSL binary again, and
# only those over TLS run with mbedTLS; the fuzz targets do not touch TLS
# and run in the BearSSL build only; the arm64 build's unit tests run under
# qemu-user beside them.
# cross_make ARCH,MUSL-TRIPLET: the cross steps of check and check-cross;
# what this make was given for the native build (BUILD, CC, BEARSSL_DIR, a
# sanitizer) must not reach them.
cross_make = $(MAKE) --no-print-directory ARCH=$(1) BUILD=build-$(1) \
	CC=$(2)-gcc BEARSSL_DIR= SAN=0 FUZZ=0 GLIBC=0
# The long outage test (tests/sh/test-vm-outage.sh: two S3 outages of
# OUTAGE_SECS each under a running systemd root) runs in the BearSSL
# check only (its "# suites:" line): OUTAGE_SECS=0 leaves it out (CI,
# which runs check-outage).
SH_TESTS = $(wildcard tests/sh/test-*.sh)
SH_TESTS_SHORT = $(filter-out tests/sh/test-vm-outage.sh,$(SH_TESTS))
check: deps-check
ifeq ($(CHECK_LINT),1)
	$(Q)$(MAKE) --no-print-directory fmt-check lint-sh
endif
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/unit
ifeq ($(SAN)$(TLS),0mbedtls)
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root VM_S3ROOT=$(CURDIR)/$(BUILD)/s3root \
		SUITE=mbedtls tests/run.sh $(BUILD)/unit
else ifeq ($(SAN),0)
	$(Q)$(MAKE) --no-print-directory fuzz-bins
	$(Q)$(call cross_make,arm64,aarch64-linux-musl) all build-arm64/unit
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root VM_S3ROOT=$(CURDIR)/$(BUILD)/s3root \
		FUZZ_BUILD=build-fuzz SMOKE_TIME=$(SMOKE_TIME) \
		CROSS_UNIT="qemu-aarch64-static build-arm64/unit" \
		S3ROOT_OUTAGE_SECS=$(OUTAGE_SECS) TESTS="$(if $(filter \
		0,$(OUTAGE_SECS)),$(SH_TESTS_SHORT),$(SH_TESTS))" \
		tests/run.sh $(BUILD)/unit
else
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root SUITE=san tests/run.sh $(BUILD)/unit
endif
endif

# The outage test alone, with outages of CHECK_OUTAGE_SECS (CI: 600).
check-outage: deps-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root VM_S3ROOT=$(CURDIR)/$(BUILD)/s3root \
		S3ROOT_OUTAGE_SECS=$(CHECK_OUTAGE_SECS) \
		bash tests/sh/test-vm-outage.sh

# What check leaves to the cross builds: the armhf build's unit tests
# under qemu-user, and the arm64 build booted from S3 by Debian's arm64
# kernel in qemu-system-aarch64 (TCG): the boots of test-vm-boot.sh whose
# code depends on the architecture (its header says which; the host's own
# build is the test's S3ROOT).
check-cross: deps-check
	$(Q)$(call cross_make,armhf,arm-linux-musleabihf) deps-check
	$(Q)$(call cross_make,armhf,arm-linux-musleabihf) all build-armhf/unit
	$(Q)qemu-arm-static build-armhf/unit
	$(Q)$(call cross_make,arm64,aarch64-linux-musl) all
	$(Q)$(MAKE) --no-print-directory all
	$(Q)VM_ARCH=arm64 VM_S3ROOT=$(CURDIR)/build-arm64/s3root \
		S3ROOT=$(CURDIR)/$(BUILD)/s3root bash tests/sh/test-vm-boot.sh

fuzz-bins:
	$(Q)$(MAKE) --no-print-directory FUZZ=1 BUILD=build-fuzz TLS=bearssl \
		$(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))

# Each target for FUZZ_TIME seconds on a copy of its corpus (make check runs
# them for SMOKE_TIME); crashes found become inputs in tests/fuzz/regress/.
fuzz: fuzz-bins
	$(Q)tests/fuzz/run.sh build-fuzz $(FUZZ_TIME)

# Leaks and growth under load with faults (minutes; not part of check).
soak: deps-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root tests/sh/soak.sh

valgrind: deps-check
	$(Q)$(MAKE) --no-print-directory GLIBC=1 TLS=$(TLS) all
	$(Q)S3ROOT=$(CURDIR)/build-glibc$(TLS_SUFFIX)/s3root \
		tests/sh/soak.sh --valgrind

fmt:
	$(Q)clang-format -i $(FMT_FILES)

fmt-check:
	$(Q)bad=0; for f in $(FMT_FILES); do \
		clang-format --dry-run -Werror $$f >/dev/null 2>&1 || \
		{ echo "not formatted: $$f (run make fmt)"; bad=1; }; \
	done; exit $$bad

# every shell script, with .shellcheckrc's settings
SH_FILES = $(wildcard bench/*.sh tests/*.sh tests/sh/*.sh tests/vm/*.sh \
	tests/vm/*.prepare tests/servers/*.sh tests/distro/*.sh) \
	tests/fuzz/run.sh initramfs/mkinitramfs-s3root man/splice.sh \
	$(DISTRO_SCRIPTS)
lint-sh:
	$(Q)shellcheck $(SH_FILES)

deps:
	$(Q)tests/deps.sh install $(ARCH)

deps-check:
	$(Q)tests/deps.sh check $(ARCH) >/dev/null 2>&1 || \
		tests/deps.sh install $(ARCH)

# The standalone initramfs for the demo kernel (Debian's, in build/vm-cache).
initramfs: all
	$(Q)TOP=$(CURDIR) VM_S3ROOT=$(CURDIR)/$(BUILD)/s3root bash -c \
		'. tests/vm/vm.sh && vm_kernel && S3ROOT=$$VM_S3ROOT \
		initramfs/mkinitramfs-s3root -o $(BUILD)/initramfs.img \
		-m "$$VM_MODDIR"'

install: all
	install -D -m 0755 $(BUILD)/s3root $(DESTDIR)$(SBINDIR)/s3root
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 man/s3root.8 man/mkinitramfs-s3root.8 \
		$(DESTDIR)$(MANDIR)/man8/

# The OPTIONS list of s3root(8), from the binary's option table (native
# builds: the binary must run here).
man: all
	$(Q)man/splice.sh man/s3root.8 $(BUILD)/s3root >man/s3root.8.tmp
	$(Q)mv man/s3root.8.tmp man/s3root.8

# The initramfs-tools hook finds the binary where install put it.
IT := initramfs/initramfs-tools
install-initramfs-tools: install
	install -d $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-top \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/conf-hooks.d
	sed 's|@SBINDIR@|$(SBINDIR)|' $(IT)/hooks/s3root \
		>$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/s3root
	chmod 0755 $(DESTDIR)$(INITRAMFS_TOOLS_DIR)/hooks/s3root
	install -m 0755 $(IT)/scripts/init-top/s3root \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/init-top/s3root
	install -m 0644 $(IT)/scripts/s3root \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/scripts/s3root
	install -m 0644 $(IT)/conf-hooks.d/s3root \
		$(DESTDIR)$(INITRAMFS_TOOLS_DIR)/conf-hooks.d/s3root

DM := initramfs/dracut/90s3root
install-dracut: install
	install -d $(DESTDIR)$(DRACUT_MODULES_DIR)/90s3root
	sed 's|@SBINDIR@|$(SBINDIR)|' $(DM)/module-setup.sh \
		>$(DESTDIR)$(DRACUT_MODULES_DIR)/90s3root/module-setup.sh
	chmod 0755 $(DESTDIR)$(DRACUT_MODULES_DIR)/90s3root/module-setup.sh
	install -m 0755 $(DM)/parse-s3root.sh $(DM)/mount-s3root.sh \
		$(DESTDIR)$(DRACUT_MODULES_DIR)/90s3root/
	install -D -m 0644 $(DM)/s3root.conf \
		$(DESTDIR)$(DRACUT_CONF_DIR)/s3root.conf

# Debian's mkinitramfs and dracut, each in a debootstrapped root, build an
# initramfs with the hook or the module; each boots the systemd image of
# test-vm-systemd from S3 (CI=true makes a skip a failure, as in check).
DISTRO_SCRIPTS := $(IT)/hooks/s3root $(IT)/scripts/init-top/s3root \
	$(IT)/scripts/s3root $(IT)/conf-hooks.d/s3root $(wildcard $(DM)/*.sh)
check-distro: deps-check
	$(Q)if command -v shellcheck >/dev/null; then \
		shellcheck $(DISTRO_SCRIPTS); \
	else echo "shellcheck is not installed: scripts not checked"; fi
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/unit
	$(Q)S3ROOT=$(CURDIR)/$(BUILD)/s3root VM_S3ROOT=$(CURDIR)/$(BUILD)/s3root \
		TESTS="$(wildcard tests/distro/test-*.sh)" tests/run.sh $(BUILD)/unit

# A local S3 server, a demo image, a VM booting from it (DEMO_SHELL=1:
# leave a shell on the booted system).
demo: deps-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)DEMO_SHELL=$(DEMO_SHELL) tests/demo.sh

# The benchmark's shaping proxy runs on the host: the host's gcc and libc.
$(BUILD)/bench/shaper: bench/shaper.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)gcc $(CSTD) $(WARN) -O2 -pthread -o $@ $<

# s3root against its peers through a latency and bandwidth shaper; minutes,
# not part of check (bench/README.md: BENCH_DELAYS, BENCH_TIME, BENCH_QUICK).
bench: deps-check
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/shaper \
		$(BUILD)/nbd_attach
	$(Q)BUILD=$(BUILD) bench/run.sh
	$(Q)BUILD=$(BUILD) bench/boot.sh

clean:
	rm -rf build build-san build-fuzz build-mbedtls build-san-mbedtls \
		build-glibc build-glibc-mbedtls \
		$(foreach a,arm64 armhf riscv64,build-$(a) build-mbedtls-$(a))

-include $(ALL_OBJS:.o=.d)
