# armhf (ARMv7, hard float) Linux gateway, run under qemu-user
BOARD_DESC   := armhf (ARMv7, hard float) Linux gateway, run under qemu-user
CROSS        := arm-linux-gnueabihf-
BOARD_CFLAGS :=
# How a binary built for this board is started on the build machine.
RUNNER       := qemu-arm
# Packages that provide CROSS and RUNNER (installed by tools/bootstrap).
BOARD_PKGS   := gcc-arm-linux-gnueabihf qemu-user
