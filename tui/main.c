#include <stdio.h>
#include <string.h>

#include "hud/cli.h"

static void usage(FILE *out) {
  fprintf(out, "usage: hud-tui [--help] [--version]\n\nTerminal UI: hot paths, slowest, failing and degrading functions (not implemented yet).\n");
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--version") == 0) {
      hud_cli_print_version(stdout, "hud-tui");
      return 0;
    }
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    fprintf(stderr, "hud-tui: unknown option '%s'\n", argv[i]);
    usage(stderr);
    return 2;
  }
  usage(stderr);
  fprintf(stderr, "hud-tui: not implemented yet in this version\n");
  return 1;
}
