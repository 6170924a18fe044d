# Builds the third-party libraries for one board (called by tools/deps build).
# Sources are the Debian-patched trees in build/src; outputs go to
# build/$(BOARD)/deps/lib*.a. Our config headers are inputs: editing
# crypto/mbedtls_config.h or firmware/lwipopts.h rebuilds what depends on them.

include board/$(BOARD)/board.mk

SRC  := build/src
OUT  := build/$(BOARD)/deps
CC   := $(CROSS)gcc
AR   := $(CROSS)ar

# Third-party code keeps its own warnings; -w keeps our -Werror policy for our code.
DEP_CFLAGS := -std=gnu11 -O2 -g -w -ffunction-sections -fdata-sections \
              $(BOARD_CFLAGS) -Iboard/$(BOARD) -MMD -MP

MBEDTLS_SRCS := $(wildcard $(SRC)/mbedtls/library/*.c)
MBEDTLS_CFLAGS := -I$(SRC)/mbedtls/include -Icrypto \
                  -DMBEDTLS_CONFIG_FILE='"mbedtls_config.h"'

SIG := $(SRC)/libsignal-protocol-c/src
ED  := $(SIG)/curve25519/ed25519
SIGNAL_SRCS := $(wildcard $(SIG)/*.c $(SIG)/protobuf-c/*.c) \
               $(SIG)/curve25519/curve25519-donna.c \
               $(wildcard $(ED)/*.c $(ED)/nacl_sha512/*.c $(ED)/additions/*.c \
                          $(ED)/additions/generalized/*.c)
SIGNAL_CFLAGS := -I$(SIG) -I$(SIG)/protobuf-c -I$(SIG)/curve25519 -I$(ED) \
                 -I$(ED)/nacl_includes -I$(ED)/additions -I$(ED)/additions/generalized

LWIP_SRCS := $(wildcard $(SRC)/lwip/src/core/*.c $(SRC)/lwip/src/core/ipv4/*.c) \
             $(SRC)/lwip/src/netif/ethernet.c
LWIP_CFLAGS := -I$(SRC)/lwip/src/include -Ifirmware -Ifirmware/net/port

# jsmn is a single header: compile its implementation once, strict mode and
# parent links on (the same defines every user of jsmn.h gets from the Makefile).
JSMN_SRCS := $(OUT)/jsmn/jsmn.c
JSMN_CFLAGS := -I$(SRC)/jsmn -DJSMN_STRICT -DJSMN_PARENT_LINKS

obj = $(patsubst $(SRC)/%.c,$(OUT)/obj/%.o,$(patsubst $(OUT)/%.c,$(OUT)/obj/%.o,$(1)))

MBEDTLS_OBJS := $(call obj,$(MBEDTLS_SRCS))
SIGNAL_OBJS  := $(call obj,$(SIGNAL_SRCS))
LWIP_OBJS    := $(call obj,$(LWIP_SRCS))
JSMN_OBJS    := $(call obj,$(JSMN_SRCS))

LIBS := $(OUT)/libmbedcrypto.a $(OUT)/libsignal-protocol-c.a $(OUT)/liblwip.a $(OUT)/libjsmn.a

all: $(LIBS)

$(MBEDTLS_OBJS): EXTRA := $(MBEDTLS_CFLAGS)
$(SIGNAL_OBJS):  EXTRA := $(SIGNAL_CFLAGS)
$(LWIP_OBJS):    EXTRA := $(LWIP_CFLAGS)
$(JSMN_OBJS):    EXTRA := $(JSMN_CFLAGS)

$(OUT)/obj/%.o: $(SRC)/%.c
	@mkdir -p $(@D)
	@echo "  CC [$(BOARD)] $<"
	@$(CC) $(DEP_CFLAGS) $(EXTRA) -c $< -o $@

$(OUT)/obj/%.o: $(OUT)/%.c
	@mkdir -p $(@D)
	@$(CC) $(DEP_CFLAGS) $(EXTRA) -c $< -o $@

$(OUT)/jsmn/jsmn.c:
	@mkdir -p $(@D)
	@printf '#include "jsmn.h"\n' > $@

define archive
	@rm -f $@
	@$(AR) rcs $@ $^
	@echo "  AR [$(BOARD)] $@"
endef

$(OUT)/libmbedcrypto.a: $(MBEDTLS_OBJS) ; $(archive)
$(OUT)/libsignal-protocol-c.a: $(SIGNAL_OBJS) ; $(archive)
$(OUT)/liblwip.a: $(LWIP_OBJS) ; $(archive)
$(OUT)/libjsmn.a: $(JSMN_OBJS) ; $(archive)

-include $(shell find $(OUT)/obj -name '*.d' 2>/dev/null)
