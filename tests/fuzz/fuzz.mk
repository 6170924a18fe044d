# libFuzzer targets for the parsers that read bytes straight off the network
# or off flash at boot (tests/fuzz/fuzz_*.c), built with Debian's clang into
# build/fuzz/. Included from the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60]   fuzz each target for that long; the corpus
#                                 grows in build/fuzz/corpus/<target>/, crashes
#                                 land in build/fuzz/artifacts/
#   make fuzz-smoke               every checked-in seed once, then
#                                 FUZZ_SMOKE_RUNS inputs per target from the
#                                 fixed FUZZ_SEED (a few seconds each; a slow
#                                 target T sets FUZZ_SMOKE_RUNS_T instead);
#                                 build/fuzz/fuzz.log ends with "N passed,
#                                 M failed" (targets), for tools/test-summary
#
# The checked-in seeds (tests/fuzz/corpus/<target>/) are only ever read:
# libFuzzer writes new inputs into the first corpus directory it is given, so
# that is always the scratch one under build/fuzz/.

FUZZ_SECONDS    ?= 60
FUZZ_SMOKE_RUNS ?= 200000
FUZZ_SEED       ?= 1
# A mount reads and CRCs a whole 64 KiB partition twice per input (about
# 2,700 inputs/s): 20,000 keep its smoke pass near the others' few seconds.
FUZZ_SMOKE_RUNS_recstore ?= 20000
# Each JSON input is parsed into three token arrays and its canonical form
# twice (about 7,000 inputs/s).
FUZZ_SMOKE_RUNS_json     ?= 50000
FUZZ_CC         ?= clang

FUZZ_DIR     := build/fuzz
FUZZ_TARGETS := http_parse ws recstore json config relay_body coord_body peer replica
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

# -fno-sanitize-recover: UBSan otherwise prints and carries on, and libFuzzer
# would not count undefined behaviour as a crash.
FUZZ_SAN    := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) -Wall -Wextra \
               -Ihal -Ifirmware -Ifirmware/net -MMD -MP

# What each target links: its harness and the project sources it exercises.
FUZZ_SRCS_http_parse := tests/fuzz/fuzz_http_parse.c firmware/net/http_parse.c hal/hex.c \
                        hal/mg_err.c
FUZZ_SRCS_ws         := tests/fuzz/fuzz_ws.c firmware/net/ws.c hal/b64.c
FUZZ_SRCS_recstore   := tests/fuzz/fuzz_recstore.c firmware/store/recstore.c \
                        hal/linux/flash_file.c hal/crc32.c hal/mg_err.c
FUZZ_SRCS_json       := tests/fuzz/fuzz_json.c firmware/json/json.c hal/hex.c hal/mg_err.c
FUZZ_SRCS_relay_body := tests/fuzz/fuzz_relay_body.c firmware/relay/envelope.c firmware/relay/users.c \
                        firmware/json/json.c firmware/diag/textbuf.c crypto/crypto.c hal/hex.c \
                        hal/mg_err.c hal/pool.c hal/linux/entropy.c
FUZZ_SRCS_config     := tests/fuzz/fuzz_config.c firmware/confsync/config.c firmware/json/json.c \
                        firmware/coord/keytext.c hal/b64.c \
                        crypto/crypto.c hal/hex.c hal/mg_err.c hal/pool.c hal/linux/entropy.c
FUZZ_SRCS_coord_body := tests/fuzz/fuzz_coord_body.c firmware/coord/api.c firmware/coord/registry.c \
                        firmware/coord/signing.c firmware/coord/keytext.c firmware/json/json.c \
                        firmware/diag/textbuf.c firmware/net/http_parse.c firmware/store/recstore.c \
                        hal/linux/flash_file.c hal/crc32.c crypto/crypto.c crypto/ed25519.c \
                        hal/hex.c hal/mg_err.c hal/pool.c hal/linux/entropy.c
FUZZ_SRCS_peer       := tests/fuzz/fuzz_peer.c firmware/heartbeat/membership.c firmware/peer/peers.c \
                        firmware/peer/peer_auth.c firmware/net/http_parse.c firmware/json/json.c \
                        firmware/diag/textbuf.c firmware/net/lwip_port.c crypto/crypto.c \
                        crypto/ed25519.c hal/b64.c hal/hex.c hal/mg_err.c hal/pool.c \
                        hal/linux/clock.c hal/linux/entropy.c
FUZZ_SRCS_replica    := tests/fuzz/fuzz_replica.c firmware/repl/replica.c firmware/repl/peerkey.c \
                        firmware/peer/peers.c firmware/json/json.c firmware/diag/textbuf.c \
                        firmware/net/http_parse.c crypto/crypto.c hal/hex.c hal/mg_err.c \
                        hal/pool.c hal/linux/entropy.c

# ws_accept_key() hashes with mbedTLS: the few library files it reaches, from
# the tree tools/deps unpacks, with our config. They get the sanitizers but no
# coverage instrumentation, so cov:/ft: count our code only.
FUZZ_MBEDTLS      := sha1 constant_time platform_util
FUZZ_MBEDTLS_OBJS := $(FUZZ_MBEDTLS:%=$(FUZZ_DIR)/obj/mbedtls/%.o)
FUZZ_MBEDTLS_CFLAGS := -std=c11 -g -O1 -w -fsanitize=address,undefined -fno-sanitize-recover=all \
                       -Ibuild/src/mbedtls/include -Icrypto \
                       -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'

fuzz_objs = $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRCS_$(1)))

.PHONY: fuzz fuzz-smoke

$(FUZZ_DIR)/fuzz_http_parse: $(call fuzz_objs,http_parse)
$(FUZZ_DIR)/fuzz_ws: $(call fuzz_objs,ws) $(FUZZ_MBEDTLS_OBJS)
$(FUZZ_DIR)/fuzz_recstore: $(call fuzz_objs,recstore)
# jsmn's implementation and mbedTLS come from the host board's libraries, as
# built by tools/deps (no coverage there either).
FUZZ_HOST_DEPS := build/host/deps
$(FUZZ_DIR)/fuzz_json: $(call fuzz_objs,json) $(FUZZ_HOST_DEPS)/libjsmn.a
$(FUZZ_DIR)/fuzz_config: $(call fuzz_objs,config) $(FUZZ_HOST_DEPS)/libmbedcrypto.a \
                         $(FUZZ_HOST_DEPS)/libjsmn.a
$(FUZZ_DIR)/fuzz_relay_body: $(call fuzz_objs,relay_body) $(FUZZ_HOST_DEPS)/libmbedcrypto.a \
                             $(FUZZ_HOST_DEPS)/libjsmn.a
# Signatures verify with libsignal's ref10 code under crypto/ed25519.c.
$(FUZZ_DIR)/fuzz_coord_body: $(call fuzz_objs,coord_body) $(FUZZ_HOST_DEPS)/libsignal-protocol-c.a \
                             $(FUZZ_HOST_DEPS)/libmbedcrypto.a $(FUZZ_HOST_DEPS)/libjsmn.a
# The peer target verifies Ed25519 (libsignal's ref10) and checks addresses
# with lwIP's ip4addr_aton().
$(FUZZ_DIR)/fuzz_peer: $(call fuzz_objs,peer) $(FUZZ_HOST_DEPS)/libsignal-protocol-c.a \
                       $(FUZZ_HOST_DEPS)/libmbedcrypto.a $(FUZZ_HOST_DEPS)/libjsmn.a \
                       $(FUZZ_HOST_DEPS)/liblwip.a
$(FUZZ_DIR)/fuzz_replica: $(call fuzz_objs,replica) $(FUZZ_HOST_DEPS)/libmbedcrypto.a \
                          $(FUZZ_HOST_DEPS)/libjsmn.a
$(FUZZ_HOST_DEPS)/libjsmn.a $(FUZZ_HOST_DEPS)/libmbedcrypto.a \
$(FUZZ_HOST_DEPS)/libsignal-protocol-c.a $(FUZZ_HOST_DEPS)/liblwip.a: $(FUZZ_HOST_DEPS)/.built

$(FUZZ_BINS):
	@echo "  LD [fuzz] $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^

$(FUZZ_DIR)/obj/%.o: %.c | build/.bootstrap
	@mkdir -p $(@D)
	@echo "  CC [fuzz] $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(call fuzz_objs,ws): FUZZ_CFLAGS += -Icrypto -Ibuild/src/mbedtls/include \
                                     -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'
$(call fuzz_objs,ws): $(FUZZ_DIR)/.src

FUZZ_JSON_USERS := $(call fuzz_objs,json) $(call fuzz_objs,config) $(call fuzz_objs,relay_body) \
                   $(call fuzz_objs,coord_body) $(call fuzz_objs,peer) $(call fuzz_objs,replica)
$(FUZZ_JSON_USERS): FUZZ_CFLAGS += -Ibuild/src/jsmn -DJSMN_HEADER -DJSMN_STRICT -DJSMN_PARENT_LINKS
$(call fuzz_objs,config) $(call fuzz_objs,relay_body) $(call fuzz_objs,coord_body) \
$(call fuzz_objs,peer) $(call fuzz_objs,replica): \
    FUZZ_CFLAGS += -Iboard/host -Icrypto \
    -Ibuild/src/mbedtls/include -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"' -D_DEFAULT_SOURCE
$(FUZZ_JSON_USERS): $(FUZZ_HOST_DEPS)/.built
$(call fuzz_objs,peer): FUZZ_CFLAGS += -Ibuild/src/lwip/src/include -Ifirmware/net/port $(REF10_INC)

$(FUZZ_DIR)/obj/crypto/ed25519.o: FUZZ_CFLAGS += $(REF10_INC)

# The store on the flash file backend: the host board's geometry, and POSIX
# (pread, fdatasync, mkstemp) as the firmware build has it.
$(call fuzz_objs,recstore): FUZZ_CFLAGS += -Iboard/host -D_DEFAULT_SOURCE

# Each input is mounted twice, and a mount compares every byte of the
# partition with 0xFF (all_is) and runs CRCs over the records. Traced, those
# byte compares cost two thirds of the run time and tell libFuzzer nothing,
# so all_is, kept out of line, is left out of coverage, and the CRC loop gets
# counters but no compare tracing. The compares that matter, a stored CRC
# against the computed one, stay traced in their callers, where libFuzzer
# learns to write valid records.
$(FUZZ_DIR)/obj/firmware/store/recstore.o: FUZZ_CFLAGS += -fno-inline \
    -fsanitize-coverage-ignorelist=$(FUZZ_DIR)/recstore.ignore
$(FUZZ_DIR)/obj/firmware/store/recstore.o: $(FUZZ_DIR)/recstore.ignore
$(FUZZ_DIR)/obj/hal/crc32.o: FUZZ_CFLAGS += -fno-sanitize-coverage=trace-cmp

$(FUZZ_DIR)/recstore.ignore: tests/fuzz/fuzz.mk
	@mkdir -p $(@D)
	@echo 'fun:all_is' > $@

# tools/deps fetch is a no-op when build/src is already current.
$(FUZZ_DIR)/.src: tools/deps $(wildcard tools/patches/mbedtls/*.patch) | build/.bootstrap
	@mkdir -p $(@D)
	@sh tools/deps fetch
	@touch $@

$(FUZZ_DIR)/obj/mbedtls/%.o: $(FUZZ_DIR)/.src crypto/mbedtls_config.h
	@mkdir -p $(@D)
	@echo "  CC [fuzz] build/src/mbedtls/library/$*.c"
	@$(FUZZ_CC) $(FUZZ_MBEDTLS_CFLAGS) -c build/src/mbedtls/library/$*.c -o $@

# --- running --------------------------------------------------------------

fuzz: $(FUZZ_BINS)
	@echo "== fuzz ($(FUZZ_SECONDS) s per target)"
	@sh tests/fuzz/run fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	@echo "== fuzz smoke"
	@sh tests/fuzz/run smoke $(FUZZ_SMOKE_RUNS) $(FUZZ_SEED) \
	    $(foreach t,$(FUZZ_TARGETS),$(t)$(if $(FUZZ_SMOKE_RUNS_$(t)),:$(FUZZ_SMOKE_RUNS_$(t))))

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
