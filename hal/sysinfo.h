/* The machine's figures for telemetry and the console's `status`: uptime,
 * load, memory, CPU time and this process's resident memory.
 *
 * The Linux backend reads /proc with open()/read() through one static
 * buffer of HAL_SYSINFO_BUF_SIZE bytes: no stdio, no heap, so every reader
 * may run after heap_seal(). A file is scanned line by line in buffer-sized
 * chunks, so a wanted line anywhere in a file of any size is found; a line
 * longer than the buffer is skipped whole (no wanted line comes near that
 * length, but /proc/stat's "intr" line can on a large machine; a wanted
 * line that long would count as missing: MG_ERR_CORRUPT). Only lines
 * ending in a newline count: a file cut short mid-line has lost that line.
 *
 * The buffer is module state: call from the superloop only, one at a time.
 *
 * Every reader returns 0 and fills *out, or returns a negative MG_ERR_* and
 * leaves *out unchanged:
 *   MG_ERR_INVAL    out is NULL
 *   MG_ERR_NOENT    the file does not exist (no /proc, or a kernel without it)
 *   MG_ERR_IO       the OS refused to open or read it
 *   MG_ERR_CORRUPT  a wanted line is missing, malformed or out of range
 *   MG_ERR_TOOBIG   the root plus the file name do not fit a path */
#ifndef HAL_SYSINFO_H
#define HAL_SYSINFO_H

#include <stdint.h>

#define HAL_SYSINFO_BUF_SIZE 4096

struct hal_sysinfo_load {
    uint32_t avg1_x100;     /* 1-minute load average times 100: 0.42 -> 42 */
    uint32_t avg5_x100;
    uint32_t avg15_x100;
};

struct hal_sysinfo_mem {
    uint64_t total_kb;      /* MemTotal */
    uint64_t available_kb;  /* MemAvailable: what can be had without swapping */
    uint64_t free_kb;       /* MemFree: unused, a lower bound of the above */
};

/* Cumulative CPU time of all CPUs since boot, in clock ticks (USER_HZ).
 * Only differences between two samples mean anything. */
struct hal_sysinfo_cpu {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Swap space, in kB (both 0 without swap). */
struct hal_sysinfo_swap {
    uint64_t total_kb;      /* SwapTotal */
    uint64_t free_kb;       /* SwapFree */
};

/* Bytes received and sent since boot over every interface but the
 * loopback (/proc/net/dev); only differences mean much. */
struct hal_sysinfo_net {
    uint64_t rx_bytes, tx_bytes;
    uint32_t interfaces;    /* how many were summed */
};

/* This process's memory, in kB. */
struct hal_sysinfo_self {
    uint64_t rss_kb;        /* VmRSS: resident now */
    uint64_t hwm_kb;        /* VmHWM: the most ever resident */
};

/* Sets the directory the files are read from, "/proc" by default; NULL
 * restores the default. The string is kept, not copied: pass one that lives
 * as long as it is in use (tests point this at fixture files). */
void hal_sysinfo_set_root(const char *dir);

/* Whole seconds since boot (/proc/uptime). */
int hal_sysinfo_uptime(uint64_t *seconds);

/* The 1, 5 and 15 minute load averages (/proc/loadavg). */
int hal_sysinfo_load(struct hal_sysinfo_load *out);

/* MemTotal, MemAvailable and MemFree (/proc/meminfo; MemAvailable needs
 * Linux 3.14 or later, an older kernel gets MG_ERR_CORRUPT). */
int hal_sysinfo_mem(struct hal_sysinfo_mem *out);

/* SwapTotal and SwapFree (/proc/meminfo). */
int hal_sysinfo_swap(struct hal_sysinfo_swap *out);

/* Receive and transmit bytes summed over the interfaces of /proc/net/dev
 * except "lo" (its two header lines are checked, so another format is
 * MG_ERR_CORRUPT, not zeros). */
int hal_sysinfo_net(struct hal_sysinfo_net *out);

/* The aggregate "cpu " line of /proc/stat. */
int hal_sysinfo_cpu(struct hal_sysinfo_cpu *out);

/* VmRSS and VmHWM of this process (/proc/self/status). */
int hal_sysinfo_self(struct hal_sysinfo_self *out);

/* The share of CPU time spent busy between two samples, in hundredths of a
 * percent (0..10000). Busy is user, nice, system, irq, softirq and steal;
 * idle and iowait are not busy. A counter that went backwards (iowait can,
 * proc(5) says so; a 64-bit tick counter never wraps in practice) adds
 * nothing to that interval rather than a huge bogus delta. Pure: reads no
 * file. MG_ERR_AGAIN when no tick passed between the samples (too close
 * together: keep the older one and try later), MG_ERR_INVAL for NULL. */
int hal_sysinfo_cpu_busy_x100(const struct hal_sysinfo_cpu *before,
                              const struct hal_sysinfo_cpu *after);

#endif
