/* Small helpers shared by the command-line front ends. */
#ifndef HUD_CLI_H
#define HUD_CLI_H
#include <stdio.h>

/* Prints "PROG (hud) VERSION" to OUT. */
void hud_cli_print_version(FILE *out, const char *prog);

#endif
