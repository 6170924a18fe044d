# meshgate: one static firmware image per board (DESIGN.md section 3).
#
#   make [BOARD=b]      build/b/meshgate (static, stripped) + build/b/meshgate.map
#   make run            build the host firmware and boot it
#   make test           lint + unit tests on every board (native with ASan and
#                       UBSan, the cross boards under qemu-user), then the
#                       integration tests against the running firmware
#                       and a short fuzz pass over the seed corpora
#   make integ [BOARD=b]  integration tests of one board
#   make fuzz           libFuzzer on the HTTP and WebSocket parsers (FUZZ_SECONDS)
#   make bench          requests/s and CPU/request against nginx
#   make check [BOARD=b]  unit tests of one board
#   make size           text/data/bss per component for every board
#
# Boards: host qemu-aarch64 qemu-armhf qemu-riscv64. Everything the build
# needs is installed by tools/bootstrap and built by tools/deps.

BOARD  ?= host
BOARDS := host qemu-aarch64 qemu-armhf qemu-riscv64
SHARED ?= ../shared
NPROC  := $(shell nproc 2>/dev/null || echo 2)

ifeq ($(wildcard board/$(BOARD)/board.mk),)
$(error unknown BOARD '$(BOARD)': one of $(BOARDS))
endif
include board/$(BOARD)/board.mk

B     := build/$(BOARD)
DEPS  := $(B)/deps
SRC   := build/src
CC    := $(CROSS)gcc
STRIP := $(CROSS)strip

SIG := $(SRC)/libsignal-protocol-c/src
ED  := $(SIG)/curve25519/ed25519

CFLAGS := -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O2 -g \
          -ffunction-sections -fdata-sections $(BOARD_CFLAGS) \
          -Iboard/$(BOARD) -Ihal -Icrypto -Ifirmware -Ifirmware/net/port \
          -I$(SRC)/mbedtls/include -I$(SRC)/lwip/src/include -I$(SRC)/jsmn \
          -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' \
          -DJSMN_HEADER -DJSMN_STRICT -DJSMN_PARENT_LINKS -MMD -MP
# Only the modules wrapping libsignal's curve code see its private headers.
REF10_INC := -I$(ED) -I$(ED)/nacl_includes -I$(SIG)/curve25519

# Every allocation goes through hal/heap_guard.c (DESIGN.md section 2).
WRAP    := -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc -Wl,--wrap=free
LDFLAGS := -Wl,--gc-sections $(WRAP)
# libsignal allocates on every operation: the firmware and its tests link a
# copy whose allocator is the static Signal arena (crypto/signal_arena.h).
# meshctl, a host tool, links the library as built.
SIG_ARENA_LIB := $(DEPS)/libsignal-arena.a
LIBS    := $(DEPS)/liblwip.a $(SIG_ARENA_LIB) $(DEPS)/libmbedcrypto.a \
           $(DEPS)/libjsmn.a
LDLIBS  := -lm -pthread

# The host's unit tests run with sanitizers (so dynamically linked); the
# cross boards' tests are static and run under qemu-user.
ifeq ($(BOARD),host)
TEST_CFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TEST_LDFLAGS := -fsanitize=address,undefined
TOBJ         := $(B)/tobj
else
TEST_CFLAGS  :=
TEST_LDFLAGS := -static
TOBJ         := $(B)/obj
endif

CORE_SRCS := $(wildcard hal/*.c hal/linux/*.c crypto/*.c) \
             $(filter-out firmware/main.c,$(wildcard firmware/*.c firmware/*/*.c))
FW_SRCS   := firmware/main.c $(CORE_SRCS)
UNIT_SRCS := $(wildcard tests/unit/*.c) $(CORE_SRCS)
# The power-cut sweeps share the unit runner and the flash-image fixture.
PC_SRCS   := $(wildcard tests/powercut/*.c) tests/unit/runner.c tests/unit/flash_image.c \
             tests/unit/recstore_values.c \
             $(CORE_SRCS)

FW_OBJS   := $(FW_SRCS:%.c=$(B)/obj/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(TOBJ)/%.o)
PC_OBJS   := $(PC_SRCS:%.c=$(TOBJ)/%.o)

.PHONY: all run shell test check lint size clean distclean deps integ powercut meshctl
all: $(B)/meshgate $(B)/meshctl

# --- tools and libraries --------------------------------------------------

build/.bootstrap: tools/bootstrap
	@mkdir -p build
	@sh tools/bootstrap
	@touch $@

$(DEPS)/.built: tools/deps tools/deps.mk $(wildcard tools/patches/*/*.patch) crypto/mbedtls_config.h firmware/lwipopts.h \
                board/$(BOARD)/board.h board/$(BOARD)/board.mk | build/.bootstrap
	+@sh tools/deps build $(BOARD)
	@touch $@

# The archives are made by tools/deps; .built is touched after every build of
# them, so images depend on it too (make does not re-stat recipe-less targets).
$(LIBS) $(DEPS)/libsignal-protocol-c.a: $(DEPS)/.built
deps: $(DEPS)/.built

$(SIG_ARENA_LIB): $(DEPS)/libsignal-protocol-c.a $(DEPS)/.built
	@echo "  OBJCOPY [$(BOARD)] $@"
	@$(CROSS)objcopy --redefine-sym malloc=mg_sig_malloc --redefine-sym calloc=mg_sig_calloc \
	    --redefine-sym realloc=mg_sig_realloc --redefine-sym free=mg_sig_free \
	    --redefine-sym strdup=mg_sig_strdup $< $@

# --- our code -------------------------------------------------------------

$(B)/obj/crypto/ed25519.o $(B)/obj/crypto/x25519.o $(B)/obj/crypto/xeddsa.o \
$(B)/tobj/crypto/ed25519.o $(B)/tobj/crypto/x25519.o $(B)/tobj/crypto/xeddsa.o: CFLAGS += $(REF10_INC)

# The Signal modules see libsignal's headers (<signal_protocol.h>, ...).
SIG_INC := -I$(SIG)
$(B)/obj/crypto/signal_%.o $(B)/tobj/crypto/signal_%.o $(B)/obj/tests/unit/test_signal.o \
$(B)/tobj/tests/unit/test_signal.o $(B)/obj/firmware/telemetry/telemetry.o \
$(B)/tobj/firmware/telemetry/telemetry.o: CFLAGS += $(SIG_INC)

$(B)/obj/%.o: %.c | $(DEPS)/.built
	@mkdir -p $(@D)
	@echo "  CC [$(BOARD)] $<"
	@$(CC) $(CFLAGS) -c $< -o $@

ifneq ($(TOBJ),$(B)/obj)
$(TOBJ)/%.o: %.c | $(DEPS)/.built
	@mkdir -p $(@D)
	@echo "  CC [$(BOARD) test] $<"
	@$(CC) $(CFLAGS) $(TEST_CFLAGS) -c $< -o $@
endif

$(B)/meshgate.elf: $(FW_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD)] $@"
	@$(CC) -static $(LDFLAGS) -Wl,-Map=$(B)/meshgate.map -o $@ $(FW_OBJS) $(LIBS) $(LDLIBS)

$(B)/meshgate: $(B)/meshgate.elf
	@$(STRIP) -o $@ $<
	@echo "  FW [$(BOARD)] $@ ($$(stat -c %s $@) bytes)"

# On the host the integration tests run the firmware built with the
# sanitizers; the cross boards run the real static image under qemu-user.
ifeq ($(BOARD),host)
INTEG_FW := $(B)/meshgate-asan
$(INTEG_FW): $(FW_SRCS:%.c=$(TOBJ)/%.o) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) test] $@"
	@$(CC) $(TEST_LDFLAGS) $(LDFLAGS) -o $@ $(FW_SRCS:%.c=$(TOBJ)/%.o) $(LIBS) $(LDLIBS)
else
INTEG_FW := $(B)/meshgate
endif

# A test-only image that ignores the per-sender cap on its own deposits
# (MESHGATE_TEST_IGNORE_CAP in relay.c), for the hostile gateway of
# tests/integ/test_repl.py: the same objects as the integration image but
# relay.c. Never part of `all` or of a release.
HOSTILE_FW  := $(B)/meshgate-hostile
HOSTILE_OBJ := $(B)/hostile/firmware/relay/relay.o
ifeq ($(BOARD),host)
HOSTILE_FLAGS := $(TEST_CFLAGS)
HOSTILE_LD    := $(TEST_LDFLAGS)
HOSTILE_BASE  := $(TOBJ)
else
HOSTILE_FLAGS :=
HOSTILE_LD    := -static
HOSTILE_BASE  := $(B)/obj
endif
HOSTILE_OBJS := $(filter-out $(HOSTILE_BASE)/firmware/relay/relay.o,$(FW_SRCS:%.c=$(HOSTILE_BASE)/%.o)) \
                $(HOSTILE_OBJ)
$(HOSTILE_OBJ): firmware/relay/relay.c | $(DEPS)/.built
	@mkdir -p $(@D)
	@echo "  CC [$(BOARD) hostile] $<"
	@$(CC) $(CFLAGS) $(HOSTILE_FLAGS) -DMESHGATE_TEST_IGNORE_CAP -c $< -o $@
$(HOSTILE_FW): $(HOSTILE_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) hostile] $@"
	@$(CC) $(HOSTILE_LD) $(LDFLAGS) -o $@ $(HOSTILE_OBJS) $(LIBS) $(LDLIBS)

$(B)/unit: $(UNIT_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) test] $@"
	@$(CC) $(TEST_LDFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIBS) $(LDLIBS)

$(PC_OBJS): CFLAGS += -Itests/unit
$(B)/powercut: $(PC_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) test] $@"
	@$(CC) $(TEST_LDFLAGS) $(LDFLAGS) -o $@ $(PC_OBJS) $(LIBS) $(LDLIBS)

# meshctl runs on the development host but knows the board's flash geometry:
# built per board with the host compiler and the host's libraries.
HOST_DEPS    := build/host/deps
MESHCTL_SRCS := tools/meshctl/meshctl.c tools/meshctl/config_cmd.c tools/meshctl/http.c \
                tools/meshctl/mesh_cmd.c hal/b64.c firmware/confsync/gate.c crypto/crypto.c crypto/ed25519.c crypto/x25519.c \
                crypto/xeddsa.c crypto/keystore.c firmware/store/recstore.c hal/crc32.c \
                hal/hex.c hal/mg_err.c hal/pool.c hal/linux/clock.c hal/linux/entropy.c \
                hal/linux/flash_file.c hal/linux/sys.c \
                tools/meshctl/signal_cmd.c tools/meshctl/ws_client.c firmware/json/json.c \
                crypto/signal_session.c crypto/signal_store.c crypto/signal_provider.c \
                crypto/signal_bundle.c crypto/signal_arena.c
MESHCTL_OBJS := $(MESHCTL_SRCS:%.c=$(B)/mctl/%.o)

ifneq ($(BOARD),host)
$(HOST_DEPS)/.built:
	@$(MAKE) --no-print-directory BOARD=host $@
endif

$(B)/mctl/%.o: %.c | $(HOST_DEPS)/.built
	@mkdir -p $(@D)
	@echo "  CC [$(BOARD) meshctl] $<"
	@gcc $(filter-out $(BOARD_CFLAGS),$(CFLAGS)) $(REF10_INC) $(SIG_INC) -Itools/meshctl -c $< -o $@

$(B)/meshctl: $(MESHCTL_OBJS) $(HOST_DEPS)/.built
	@echo "  LD [$(BOARD) meshctl] $@"
	@gcc -Wl,--gc-sections -o $@ $(MESHCTL_OBJS) $(HOST_DEPS)/libsignal-protocol-c.a $(HOST_DEPS)/libmbedcrypto.a \
	    $(HOST_DEPS)/libjsmn.a -lm

meshctl: $(B)/meshctl

# The record-store benchmark of make bench, built the same way.
BENCH_FLASH_OBJS := $(B)/mctl/tools/bench_flash.o $(B)/mctl/firmware/store/recstore.o \
                    $(B)/mctl/hal/crc32.o $(B)/mctl/hal/mg_err.o $(B)/mctl/hal/linux/flash_file.o
$(B)/bench-flash: $(BENCH_FLASH_OBJS)
	@echo "  LD [$(BOARD) bench] $@"
	@gcc -o $@ $(BENCH_FLASH_OBJS)

# The raw HMAC reference of the controller gate's benchmark: built for the
# board (its compiler, its mbedTLS) and run under its runner.
BENCH_HMAC_OBJS := $(B)/obj/tools/bench_hmac.o $(B)/obj/crypto/crypto.o $(B)/obj/hal/mg_err.o \
                   $(B)/obj/hal/pool.o $(B)/obj/hal/linux/entropy.o
$(B)/bench-hmac: $(BENCH_HMAC_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) bench] $@"
	@$(CC) -static -o $@ $(BENCH_HMAC_OBJS) $(DEPS)/libmbedcrypto.a

# The Ed25519 reference of the membership benchmark: our verification and
# ref10's, for the board, run under its runner.
BENCH_ED_OBJS := $(B)/obj/tools/bench_ed25519.o $(B)/obj/firmware/coord/signing.o \
                 $(B)/obj/firmware/coord/keytext.o $(B)/obj/crypto/ed25519.o $(B)/obj/crypto/crypto.o \
                 $(B)/obj/hal/hex.o $(B)/obj/hal/mg_err.o $(B)/obj/hal/pool.o $(B)/obj/hal/linux/entropy.o
$(B)/obj/tools/bench_ed25519.o: CFLAGS += $(REF10_INC)
$(B)/bench-ed25519: $(BENCH_ED_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) bench] $@"
	@$(CC) -static -o $@ $(BENCH_ED_OBJS) $(DEPS)/libsignal-protocol-c.a $(DEPS)/libmbedcrypto.a

# The Signal benchmark (tools/bench_signal.c): the firmware's session API
# with the arena, and the same objects over the library's own malloc.
BENCH_SIG_OBJS := $(addprefix $(B)/obj/,tools/bench_signal.o crypto/signal_session.o \
                  crypto/signal_store.o crypto/signal_provider.o crypto/signal_bundle.o \
                  crypto/signal_arena.o crypto/keystore.o crypto/crypto.o crypto/x25519.o \
                  crypto/xeddsa.o crypto/ed25519.o firmware/store/recstore.o hal/crc32.o \
                  hal/mg_err.o hal/pool.o hal/linux/flash_file.o hal/linux/entropy.o \
                  hal/linux/clock.o hal/linux/sys.o hal/b64.o hal/hex.o)
$(B)/obj/tools/bench_signal.o: CFLAGS += $(SIG_INC)
$(B)/bench-signal: $(BENCH_SIG_OBJS) $(LIBS) $(DEPS)/.built
	@echo "  LD [$(BOARD) bench] $@"
	@$(CC) -static -Wl,--gc-sections -o $@ $(BENCH_SIG_OBJS) $(SIG_ARENA_LIB) $(DEPS)/libmbedcrypto.a $(DEPS)/libjsmn.a -lm
$(B)/bench-signal-malloc: $(BENCH_SIG_OBJS) $(DEPS)/libsignal-protocol-c.a $(DEPS)/.built
	@echo "  LD [$(BOARD) bench] $@"
	@$(CC) -static -Wl,--gc-sections -o $@ $(BENCH_SIG_OBJS) $(DEPS)/libsignal-protocol-c.a \
	    $(DEPS)/libmbedcrypto.a $(DEPS)/libjsmn.a -lm

# The relay's load generator (and mosquitto's), a host tool whatever the board.
build/host/bench-relay: tools/bench_relay.c
	@mkdir -p $(@D)
	@echo "  LD [host bench] $@"
	@gcc -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

# --- running and testing --------------------------------------------------

NETNS ?= meshgate

# The firmware in a private network namespace, its console on this terminal.
run: $(B)/meshgate
	@echo "meshgate: 10.42.0.2 in namespace '$(NETNS)'; from another terminal:"
	@echo "  make shell    then    curl http://10.42.0.2:8080/health"
	@echo "console: type 'help'; 'halt' stops the firmware"
	@sh tools/netns run $(NETNS) sh tools/supervise $(RUNNER) $(B)/meshgate \
	    -f $(B)/flash.img -k $(B)/device.key

# A shell in the namespace of `make run`.
shell:
	@sh tools/netns exec $(NETNS) $${SHELL:-/bin/sh}

check: $(B)/unit
	@echo "== unit tests [$(BOARD)]"
	@$(RUNNER) $(B)/unit --vectors $(SHARED)/vectors/wycheproof > $(B)/unit.log 2>&1; \
	    rc=$$?; cat $(B)/unit.log; exit $$rc

# Every flash operation of the store workloads cut, whole and torn.
powercut: $(B)/powercut
	@echo "== power-cut sweeps [$(BOARD)]"
	@$(RUNNER) $(B)/powercut > $(B)/powercut.log 2>&1; \
	    rc=$$?; cat $(B)/powercut.log; exit $$rc

lint: build/.bootstrap
	@echo "== cppcheck"
	@cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,performance,portability \
	    --inline-suppr --suppress=missingIncludeSystem \
	    -Iboard/host -Ihal -Icrypto -Ifirmware -Ifirmware/net/port \
	    hal crypto firmware tools/meshctl tools/bench_flash.c tools/bench_hmac.c tools/bench_relay.c \
	    tools/bench_ed25519.c tools/bench_signal.c tests/unit tests/powercut

INTEG_BOARDS := host qemu-aarch64 qemu-riscv64

# The real firmware over TAP in a private namespace, driven by pytest.
integ: $(INTEG_FW) $(HOSTILE_FW) build/.bootstrap
	@echo "== integration tests [$(BOARD)]"
	@sh tools/netns up mg-integ-$(BOARD)
	@sh tools/netns exec mg-integ-$(BOARD) /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	    tests/integ --board $(BOARD) --firmware $(INTEG_FW) --runner "$(RUNNER)" > $(B)/integ.log 2>&1; \
	    rc=$$?; sh tools/netns down mg-integ-$(BOARD); cat $(B)/integ.log; exit $$rc

test: build/.bootstrap
	@$(MAKE) --no-print-directory lint
	@set -e; for b in $(BOARDS); do \
	    $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b all check powercut; \
	done
	@set -e; for b in $(INTEG_BOARDS); do \
	    $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b integ; \
	done
	@$(MAKE) --no-print-directory -j$(NPROC) fuzz-smoke
	@echo "== summary"
	@/usr/bin/python3 tools/test-summary $(BOARDS:%=build/%/unit.log) $(BOARDS:%=build/%/powercut.log) \
	    $(INTEG_BOARDS:%=build/%/integ.log) build/fuzz/fuzz.log

size: build/.bootstrap
	@set -e; for b in $(BOARDS); do $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b all; done
	@/usr/bin/python3 tools/size-report $(BOARDS:%=build/%/meshgate.map)

clean:
	rm -rf build/fuzz $(BOARDS:%=build/%/obj) $(BOARDS:%=build/%/tobj) $(BOARDS:%=build/%/meshgate*) \
	       $(BOARDS:%=build/%/hostile) \
	       $(BOARDS:%=build/%/unit) $(BOARDS:%=build/%/powercut)

distclean:
	rm -rf build

include tools/bench.mk
include tests/fuzz/fuzz.mk

-include $(shell find $(B)/obj $(B)/tobj $(B)/mctl $(B)/hostile -name '*.d' 2>/dev/null)
