/* Keeps the support library non-empty. */
typedef int hud_testsupport_empty_;
