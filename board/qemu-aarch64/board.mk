# aarch64 Linux gateway, run under qemu-user
BOARD_DESC   := aarch64 Linux gateway, run under qemu-user
CROSS        := aarch64-linux-gnu-
BOARD_CFLAGS :=
# How a binary built for this board is started on the build machine.
RUNNER       := qemu-aarch64
# Packages that provide CROSS and RUNNER (installed by tools/bootstrap).
BOARD_PKGS   := gcc-aarch64-linux-gnu qemu-user
