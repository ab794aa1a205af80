/* kpipe's stat batch: the stat of every file a run will look at, taken on the other core while kpipe's
 * main thread loads its state (core/state/stat-prefetch.ts). Node's fs.statSync costs twice the syscall
 * on a slow VM (a BigIntStats object per call, and the garbage it leaves), and a no-op of a 5,500-module
 * tree stats 22,000 files.
 *   stat-batch < NUL-terminated absolute paths > one 32-byte record per path, in order:
 *     int64 kind (0: absent or not a regular file, 1: regular file, 2: another error: ask again yourself),
 *     int64 size, int64 mtime in nanoseconds, uint64 inode; little-endian as the host is (x86_64, arm64). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct part { char **paths; int64_t *recs; size_t from, to; };

static void *stat_part(void *arg) {
  struct part *w = arg;
  for (size_t i = w->from; i < w->to; i++) {
    int64_t *rec = w->recs + 4 * i;
    struct stat st;
    /* As fs.statSync(p, { throwIfNoEntry: false }) does: only a missing file is "absent"; any other
     * error is Node's to raise. */
    if (stat(w->paths[i], &st) != 0) rec[0] = errno == ENOENT ? 0 : 2;
    else if (!S_ISREG(st.st_mode)) rec[0] = 0;
    else {
      rec[0] = 1;
      rec[1] = st.st_size;
      rec[2] = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
      rec[3] = (int64_t)st.st_ino;
    }
  }
  return NULL;
}

int main(void) {
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  if (!buf) return 1;
  for (;;) {
    if (len == cap) {
      char *more = realloc(buf, cap *= 2);
      if (!more) return 1;
      buf = more;
    }
    ssize_t n = read(0, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return 1;
    if (n == 0) break;
    len += (size_t)n;
  }
  if (len > 0 && buf[len - 1] != '\0') return 1; /* a torn request: kpipe stats on its own */
  size_t count = 0;
  for (size_t i = 0; i < len; i++) count += buf[i] == '\0';
  char **paths = malloc((count + 1) * sizeof *paths);
  int64_t *recs = calloc(4 * count + 1, sizeof *recs);
  if (!paths || !recs) return 1;
  for (size_t i = 0, at = 0; i < count; i++, at += strlen(buf + at) + 1) paths[i] = buf + at;
  /* Two halves at once: kpipe's main thread is busy loading its state on one core for most of the
   * time, and waits for the rest. */
  struct part first = {paths, recs, 0, count / 2}, second = {paths, recs, count / 2, count};
  pthread_t other;
  int threaded = count > 1000 && pthread_create(&other, NULL, stat_part, &second) == 0;
  stat_part(&first);
  if (threaded) pthread_join(other, NULL);
  else stat_part(&second);
  const char *out = (const char *)recs;
  for (size_t off = 0, total = 32 * count; off < total;) {
    ssize_t w = write(1, out + off, total - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return 1;
    off += (size_t)w;
  }
  return 0;
}
