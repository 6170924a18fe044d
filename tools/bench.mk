# make bench: keep-alive req/s and server CPU time per request of the firmware
# on each of BENCH_BOARDS, beside nginx measured the same way in the same run,
# plus memory figures and the controller gate's HMAC-verified requests/s
# beside raw mbedTLS HMAC verifications/s (tools/bench, tools/bench_hmac.c),
# and the record store's write and mount
# times beside bare flash operations (tools/bench_flash.c), and mailbox
# replication's deposit latency and delivery rate (tools/bench_repl). Needs root; results also in
# build/bench/results.txt. Included from the Makefile.
#
#   make bench [BENCH_SECONDS=n] [BENCH_BOARDS="host ..."]
#   make bench-board BOARD=b      one board, image already built

BENCH_BOARDS       ?= host qemu-aarch64
BENCH_SECONDS      ?= 10
BENCH_MIN_REQUESTS ?= 100000

.PHONY: bench bench-board bench-flash bench-repl

# Every image first, then one board at a time (each gets the machine to
# itself); every board is run even if one fails.
bench: build/.bootstrap
	@set -e; for b in $(BENCH_BOARDS); do \
	    $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b all build/$$b/bench-hmac; done
	@$(MAKE) --no-print-directory BOARD=host build/host/bench-relay
	@mkdir -p build/bench && : > build/bench/results.txt
	@rc=0; for b in $(BENCH_BOARDS); do \
	    $(MAKE) --no-print-directory BOARD=$$b bench-board || rc=1; \
	done; \
	$(MAKE) --no-print-directory BOARD=host bench-flash || rc=1; \
	$(MAKE) --no-print-directory BOARD=host bench-repl || rc=1; exit $$rc

# Mailbox replication (tools/bench_repl): deposit latency with 0, 2 and 4
# peers (one unreachable), and the replicated delivery rate, four host
# gateways on one bridge in a namespace of their own.
bench-repl: build/host/meshgate
	@mkdir -p build/bench
	@sh tools/netns up mg-bench-repl
	@sh tools/netns exec mg-bench-repl /usr/bin/python3 tools/bench_repl \
	    --firmware build/host/meshgate; rc=$$?; sh tools/netns down mg-bench-repl; exit $$rc

# The record store on a real disk beside bare flash operations (bench_flash.c).
bench-flash: $(B)/bench-flash
	@echo "== record store [$(BOARD)]" | tee -a build/bench/results.txt
	@$(B)/bench-flash build/bench/flash-bench.img | tee -a build/bench/results.txt

# A sub-make per board so that RUNNER and CROSS come from its board.mk.
bench-board: build/.bootstrap $(B)/bench-hmac build/host/bench-relay
	@/usr/bin/python3 tools/bench --board $(BOARD) --runner "$(RUNNER)" --size $(CROSS)size \
	    --seconds $(BENCH_SECONDS) --min-requests $(BENCH_MIN_REQUESTS)
