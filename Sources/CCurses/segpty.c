// A pseudo-terminal for `segterm bench link`: the calls glibc declares only with _GNU_SOURCE /
// _XOPEN_SOURCE, which Swift's Glibc module leaves out.
#define _GNU_SOURCE
#include "segcurses.h"
#include <fcntl.h>
#include <unistd.h>
#include <spawn.h>
#include <stdlib.h>

int segpty_open(char *name, size_t capacity) {
    int fd = posix_openpt(O_RDWR | O_NOCTTY);
    if (fd < 0) return -1;
    if (grantpt(fd) != 0 || unlockpt(fd) != 0 || ptsname_r(fd, name, capacity) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

short segpty_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }
