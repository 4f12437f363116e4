/* A program outside the tree: spawns /bin/true through the installed library. */
#include <capspawn/spawn.h>
#include <stdio.h>

int main(void) {
  const char* argv[] = {"true", NULL};
  int process = -1;
  char err[CAPSPAWN_ERR_MSG_MAX_LENGTH] = "";
  capspawn_status_t st =
      capspawn_spawn_etc(-1, CAPSPAWN_CLONE_ALL, "/bin/true", argv, NULL, 0, NULL, &process, err);
  if (st != CAPSPAWN_OK) {
    fprintf(stderr, "spawn: %s: %s\n", capspawn_status_string(st), err);
    return 1;
  }
  int64_t rc = -1;
  st = capspawn_process_wait(process, -1, &rc);
  printf("consumer: %s rc=%lld\n", capspawn_status_string(st), (long long)rc);
  return st == CAPSPAWN_OK && rc == 0 ? 0 : 1;
}
