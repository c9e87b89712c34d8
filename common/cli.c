#include "hud/cli.h"
#include "hud/version.h"

void hud_cli_print_version(FILE *out, const char *prog) {
  fprintf(out, "%s (hud) %s\n", prog, HUD_VERSION_STRING);
}
