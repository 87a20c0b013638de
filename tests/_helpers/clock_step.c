/*
 * A wall clock that can be stepped while a process runs, for tests of what
 * an NTP step or a resumed VM does to bgtask (tests/clock_step_test.ts).
 * LD_PRELOADed with BGTASK_TEST_CLOCK_FILE naming a file that holds an
 * offset in milliseconds (read at every call, so that writing the file steps
 * the clock of every process that has it): CLOCK_REALTIME, gettimeofday(2)
 * and time(2) are moved by the offset; CLOCK_MONOTONIC and CLOCK_BOOTTIME
 * are not, as a real step does not move them.
 *
 * The variable is found in `environ` itself: bash, which defines a getenv of
 * its own, answers getenv() before its start-up has filled it in.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static const char VAR[] = "BGTASK_TEST_CLOCK_FILE=";
static char path[1024];
static int looked;
static int (*real_clock_gettime)(clockid_t, struct timespec *);

static long long offset_ms(void) {
  if (!looked) {
    looked = 1;
    for (char **e = environ; e && *e; e++) {
      if (strncmp(*e, VAR, sizeof VAR - 1) == 0) {
        strncpy(path, *e + sizeof VAR - 1, sizeof path - 1);
        break;
      }
    }
  }
  if (!path[0]) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[32];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  return atoll(buf);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
  if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
  int r = real_clock_gettime(clock, ts);
  if (r != 0 || (clock != CLOCK_REALTIME && clock != CLOCK_REALTIME_COARSE)) return r;
  long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ms() * 1000000LL;
  ts->tv_sec = ns / 1000000000LL;
  ts->tv_nsec = ns % 1000000000LL;
  return r;
}

int gettimeofday(struct timeval *tv, void *tz) {
  (void)tz;
  struct timespec ts;
  int r = clock_gettime(CLOCK_REALTIME, &ts);
  if (r == 0 && tv) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return r;
}

time_t time(time_t *t) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t) *t = ts.tv_sec;
  return ts.tv_sec;
}
