/*
 * Seed-replay driver for fuzz targets built without libFuzzer: runs
 * LLVMFuzzerTestOneInput once on every file named on the command line (folders are
 * walked one level deep). Lets `meson test` exercise every target on its seed corpus in
 * ordinary (and ASan/UBSan) builds; -Dfuzzing=true links real libFuzzer instead.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  size_t got = buf && n > 0 ? fread(buf, 1, (size_t)n, f) : 0;
  fclose(f);
  if (!buf)
    return 1;
  /* Copy into an exactly-sized allocation so ASan catches a read one past the end. */
  uint8_t *exact = malloc(got ? got : 1);
  memcpy(exact, buf, got);
  LLVMFuzzerTestOneInput(exact, got);
  free(exact);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int runs = 0, rc = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "no such seed file or folder: %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      rc |= run_file(argv[i]);
      runs++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.')
        continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      rc |= run_file(path);
      runs++;
    }
    if (d)
      closedir(d);
  }
  printf("replayed %d seed inputs\n", runs);
  if (runs == 0) {
    fprintf(stderr, "no seed inputs given\n");
    return 1;
  }
  return rc;
}
