# x86_64 Linux host, native (development board)
BOARD_DESC   := x86_64 Linux host, native (development board)
CROSS        := 
BOARD_CFLAGS :=
# How a binary built for this board is started on the build machine.
RUNNER       := 
# Packages that provide CROSS and RUNNER (installed by tools/bootstrap).
BOARD_PKGS   := 
