/* kpipe's spawn helper in C: the protocol of the Perl helper in spawn-helper.ts, with posix_spawn.
 * glibc's posix_spawn runs the child on the helper's own memory until the exec (CLONE_VM|CLONE_VFORK),
 * so no page is copied: the Perl helper's fork copied every page either process wrote before the
 * exec, several milliseconds of CPU a command on a slow VM, more than the commands themselves.
 *   spawn-helper NOTES-DIR OUTPUT-DIR       (NOTES-DIR empty: no notes)
 * Requests on stdin: `LENGTH\n` then LENGTH bytes of NUL-separated fields:
 *   E envid VAR=VALUE...                            an environment, used by later requests
 *   R id envid cwd stdout-file output-file argv...  start a command (stdout-file empty: capture)
 * Reports on stdout: `S id pid`, `E id status size`, `F id errno text`. On the end of stdin (kpipe
 * died or let it go) every group still running gets SIGTERM and the output files are removed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct live { pid_t pid; char *id; char *output; };
static struct live *lives; static size_t nlive, caplive;
static char ***envs; static size_t nenvs;
static const char *notes, *outputs;

static void *grow(void *p, size_t n) { void *q = realloc(p, n); if (!q) { perror("spawn-helper"); exit(1); } return q; }

static void report(const char *fmt, ...) {
  char line[8192]; va_list ap; va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap); va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) { n = sizeof line - 1; line[n - 1] = '\n'; }
  for (int off = 0; off < n;) {
    ssize_t w = write(1, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* kpipe is gone: the end of stdin follows */
    off += w;
  }
}

static const char *env_get(char **env, const char *name) {
  size_t len = strlen(name);
  for (; env && *env; env++) if (strncmp(*env, name, len) == 0 && (*env)[len] == '=') return *env + len + 1;
  return NULL;
}

/* execvp's search, in the command's own PATH (as Perl's exec and Node's spawn do): the first
 * executable file, else EACCES if one was found but could not be run, else ENOENT. */
static int resolve(const char *file, char **env, char *out, size_t size) {
  if (strchr(file, '/')) { snprintf(out, size, "%s", file); return 0; }
  const char *p = env_get(env, "PATH");
  if (!p) p = "/usr/local/bin:/usr/bin:/bin";
  int err = ENOENT;
  while (1) {
    const char *colon = strchr(p, ':');
    size_t dlen = colon ? (size_t)(colon - p) : strlen(p);
    snprintf(out, size, "%.*s%s%s", (int)dlen, dlen ? p : ".", "/", file);
    struct stat st;
    if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(out, X_OK) == 0) return 0;
      err = EACCES;
    }
    if (!colon) return err;
    p = colon + 1;
  }
}

static void note_started(pid_t pid) {
  char path[4096], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC); if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1); close(fd); if (n <= 0) return;
  stat[n] = 0;
  /* field 22, the start time: the 20th after the ") " that ends the command name */
  char *f = strrchr(stat, ')'); if (!f) return;
  f += 2;
  for (int k = 0; k < 19 && f; k++) { f = strchr(f, ' '); if (f) f++; }
  if (!f) return;
  size_t len = strcspn(f, " \n");
  snprintf(path, sizeof path, "%s/%d", notes, pid);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666); if (fd < 0) return;
  char line[64]; int m = snprintf(line, sizeof line, "%.*s\n", (int)(len < 40 ? len : 40), f);
  if (write(fd, line, m) < 0) { /* a note we cannot write costs only the cleanup after a kill -9 */ }
  close(fd);
}

static void start(char **f, size_t nf) {
  if (nf < 6) return;
  const char *id = f[0], *cwd = f[2], *stdout_file = f[3], *output = f[4];
  size_t envid = strtoul(f[1], NULL, 10);
  char **argv = f + 5; /* NULL-terminated by the caller */
  char **env = envid < nenvs ? envs[envid] : NULL;
  int err_fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (err_fd < 0) { report("F %s 0 cannot write %s: %s\n", id, output, strerror(errno)); return; }
  int out_fd = err_fd;
  if (*stdout_file) {
    out_fd = open(stdout_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (out_fd < 0) { int e = errno; close(err_fd); unlink(output); report("F %s 0 cannot write %s: %s\n", id, stdout_file, strerror(e)); return; }
  }
  struct stat st; char program[4096];
  int e = stat(cwd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  if (e != 0) { report("F %s 0 cannot enter directory %s: %s\n", id, cwd, strerror(e)); goto done; }
  if ((e = resolve(argv[0], env, program, sizeof program)) != 0) { report("F %s %d %s\n", id, e, strerror(e)); goto done; }
  posix_spawn_file_actions_t fa; posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa); posix_spawnattr_init(&at);
  posix_spawn_file_actions_addchdir_np(&fa, cwd);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  sigset_t none, defaults; sigemptyset(&none); sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE); sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &defaults);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid;
  e = posix_spawn(&pid, program, &fa, &at, argv, env ? env : (char *[]){NULL});
  posix_spawn_file_actions_destroy(&fa); posix_spawnattr_destroy(&at);
  if (e != 0) { report("F %s %d %s\n", id, e, strerror(e)); goto done; }
  /* The program is already running here (posix_spawn returns after its exec): the note follows
   * at once, as Node's spawn notes its commands. */
  if (*notes) note_started(pid);
  if (nlive == caplive) lives = grow(lives, (caplive = caplive ? 2 * caplive : 16) * sizeof *lives);
  lives[nlive++] = (struct live){pid, strdup(id), strdup(output)};
  report("S %s %d\n", id, pid);
  close(err_fd); if (out_fd != err_fd) close(out_fd);
  return;
done:
  close(err_fd); if (out_fd != err_fd) close(out_fd);
  unlink(output);
}

static void ended(pid_t pid, int status) {
  for (size_t k = 0; k < nlive; k++) {
    if (lives[k].pid != pid) continue;
    struct live l = lives[k];
    lives[k] = lives[--nlive];
    if (*notes) { char path[4096]; snprintf(path, sizeof path, "%s/%d", notes, pid); unlink(path); }
    struct stat st; long long size = stat(l.output, &st) == 0 ? (long long)st.st_size : 0;
    if (size == 0) unlink(l.output);
    report("E %s %d %lld\n", l.id, status, size);
    free(l.id); free(l.output);
    return;
  }
}

static void reap(void) {
  int status; pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) ended(pid, status);
}

static void request(char *p, size_t len) {
  size_t nf = 1;
  for (size_t k = 0; k < len; k++) if (p[k] == 0) nf++;
  char **f = grow(NULL, (nf + 1) * sizeof *f);
  size_t i = 0; f[i++] = p;
  for (size_t k = 0; k < len; k++) if (p[k] == 0) f[i++] = p + k + 1;
  f[nf] = NULL;
  if (strcmp(f[0], "E") == 0 && nf >= 2) {
    size_t envid = strtoul(f[1], NULL, 10);
    if (envid >= nenvs) { envs = grow(envs, (envid + 1) * sizeof *envs); memset(envs + nenvs, 0, (envid + 1 - nenvs) * sizeof *envs); nenvs = envid + 1; }
    char **env = grow(NULL, (nf - 1) * sizeof *env);
    for (size_t k = 2; k < nf; k++) env[k - 2] = strdup(f[k]);
    env[nf - 2] = NULL;
    envs[envid] = env; /* each environment is sent once; an old one is kept, it is small */
  } else if (strcmp(f[0], "R") == 0) start(f + 1, nf - 1);
  free(f);
}

static void shutdown_all(void) {
  for (size_t k = 0; k < nlive; k++) kill(-lives[k].pid, SIGTERM);
  DIR *d = opendir(outputs);
  if (d) {
    struct dirent *e; char path[4096];
    while ((e = readdir(d))) if (e->d_name[0] != '.') { snprintf(path, sizeof path, "%s/%s", outputs, e->d_name); unlink(path); }
    closedir(d);
  }
  rmdir(outputs);
  exit(0);
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: spawn-helper NOTES-DIR OUTPUT-DIR\n"); return 2; }
  notes = argv[1]; outputs = argv[2];
  if (*notes) mkdir(notes, 0777);
  signal(SIGPIPE, SIG_IGN); /* a dead kpipe must not kill the helper: it still has to stop the commands */
  sigset_t chld; sigemptyset(&chld); sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) { perror("spawn-helper: signalfd"); return 1; }
  char *buf = NULL; size_t used = 0, cap = 0;
  while (1) {
    struct pollfd p[2] = {{0, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) return 1;
    if (p[1].revents) { struct signalfd_siginfo si; while (read(sfd, &si, sizeof si) > 0) {} }
    reap();
    if (!p[0].revents) continue;
    if (cap - used < 65536) buf = grow(buf, cap = cap ? 2 * cap : 1 << 17);
    ssize_t r = read(0, buf + used, cap - used - 1); /* one byte left to end the last field */
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) shutdown_all();
    used += r;
    size_t off = 0;
    while (1) {
      char *nl = memchr(buf + off, '\n', used - off);
      if (!nl) break;
      size_t len = strtoul(buf + off, NULL, 10), head = nl - (buf + off) + 1;
      if (used - off < head + len) break;
      char saved = buf[off + head + len];
      buf[off + head + len] = 0; /* the last field ends here */
      request(buf + off + head, len);
      buf[off + head + len] = saved;
      off += head + len;
    }
    memmove(buf, buf + off, used - off); used -= off;
  }
}
