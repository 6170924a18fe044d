# riscv64 (RV64GC) Linux gateway, run under qemu-user
BOARD_DESC   := riscv64 (RV64GC) Linux gateway, run under qemu-user
CROSS        := riscv64-linux-gnu-
BOARD_CFLAGS :=
# How a binary built for this board is started on the build machine.
RUNNER       := qemu-riscv64
# Packages that provide CROSS and RUNNER (installed by tools/bootstrap).
BOARD_PKGS   := gcc-riscv64-linux-gnu qemu-user
