# make bench: keep-alive req/s and server CPU time per request of the firmware
# on each of BENCH_BOARDS, beside nginx measured the same way in the same run,
# plus memory figures and the controller gate's HMAC-verified requests/s
# beside raw mbedTLS HMAC verifications/s (tools/bench, tools/bench_hmac.c),
# Ed25519 verifications/s of the coordinator's path and of our verification
# beside ref10's called directly (tools/bench_ed25519.c),
# and the record store's write and mount
# times beside bare flash operations (tools/bench_flash.c), Signal
# operations/s with the scratch arena beside the C library's malloc
# (tools/bench_signal.c), and mailbox replication's deposit latency and
# delivery rate (tools/bench_repl); on the host board also the relay's
# user-space instructions per message beside mosquitto's, both under
# valgrind's callgrind (a count the machine's noise does not move). Needs
# root; results also in
# build/bench/results.txt. Included from the Makefile.
#
#   make bench [BENCH_SECONDS=n] [BENCH_BOARDS="host ..."]
#   make bench-board BOARD=b      one board, image already built

BENCH_BOARDS       ?= host qemu-aarch64
BENCH_SECONDS      ?= 10
BENCH_MIN_REQUESTS ?= 100000

.PHONY: bench bench-board bench-flash bench-signal bench-repl

# Every image first, then one board at a time (each gets the machine to
# itself); every board is run even if one fails.
bench: build/.bootstrap
	@set -e; for b in $(BENCH_BOARDS); do \
	    $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b all build/$$b/bench-hmac \
	        build/$$b/bench-ed25519; done
	@$(MAKE) --no-print-directory BOARD=host build/host/bench-relay
	@mkdir -p build/bench && : > build/bench/results.txt
	@rc=0; for b in $(BENCH_BOARDS); do \
	    $(MAKE) --no-print-directory BOARD=$$b bench-board || rc=1; \
	done; \
	$(MAKE) --no-print-directory BOARD=host bench-flash || rc=1; \
	for b in $(BENCH_BOARDS); do \
	    $(MAKE) --no-print-directory -j$(NPROC) BOARD=$$b bench-signal || rc=1; \
	done; \
	$(MAKE) --no-print-directory BOARD=host bench-repl || rc=1; exit $$rc

# Encrypt, decrypt and X3DH setups/s through the session API with the arena
# (the firmware's allocator) and with malloc, run one after the other on the
# board's runner; the ratio and the arena's high-water per operation.
BENCH_SIGNAL_SECONDS ?= 3
# On tmpfs where there is one: the keystore's syncs would hide the allocator.
BENCH_SIGNAL_IMG ?= $(if $(wildcard /dev/shm),/dev/shm,build/bench)/mg-signal-$(BOARD).img
bench-signal: $(B)/bench-signal $(B)/bench-signal-malloc
	@mkdir -p build/bench
	@echo "== signal [$(BOARD)]" | tee -a build/bench/results.txt
	@$(RUNNER) $(B)/bench-signal $(BENCH_SIGNAL_IMG) $(BENCH_SIGNAL_SECONDS) \
	    > build/bench/signal-$(BOARD).arena && \
	$(RUNNER) $(B)/bench-signal-malloc $(BENCH_SIGNAL_IMG) $(BENCH_SIGNAL_SECONDS) \
	    > build/bench/signal-$(BOARD).malloc && \
	awk 'FNR == 1 { r[FILENAME] = $$2 " " $$4 " " $$6 } FNR == 2 && FILENAME ~ /arena$$/ { hw = $$0 } \
	     END { split(r[ARGV[1]], a); split(r[ARGV[2]], m); \
	           printf "arena  encrypt %s decrypt %s x3dh %s\n", a[1], a[2], a[3]; \
	           printf "malloc encrypt %s decrypt %s x3dh %s\n", m[1], m[2], m[3]; \
	           printf "ratio arena/malloc: encrypt %.2f, decrypt %.2f, x3dh %.2f\n", \
	                  a[1] / m[1], a[2] / m[2], a[3] / m[3]; print hw }' \
	    build/bench/signal-$(BOARD).arena build/bench/signal-$(BOARD).malloc \
	    | tee -a build/bench/results.txt; rm -f $(BENCH_SIGNAL_IMG)

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
bench-board: build/.bootstrap $(B)/bench-hmac $(B)/bench-ed25519 build/host/bench-relay
	@/usr/bin/python3 tools/bench --board $(BOARD) --runner "$(RUNNER)" --size $(CROSS)size \
	    --seconds $(BENCH_SECONDS) --min-requests $(BENCH_MIN_REQUESTS)
