/*
 * Tesseract's own messages, handed to dossier's log on the thread that printed them.
 *
 * Tesseract prints its notes ("Estimating resolution as 301", OSD's "Too few characters")
 * through one function, tesseract::tprintf(const char *format, ...), which libtesseract calls
 * through its PLT. The dossier binary defines that symbol here and exports it
 * (build.rs: --export-dynamic-symbol), so the dynamic linker binds libtesseract's calls to this
 * definition: each message is formatted and passed to the handler Rust installed
 * (src/ocr/messages.rs), which knows the file and page the calling worker is reading. Until a
 * handler is installed, messages are dropped (as Tesseract's debug_file=/dev/null did).
 * A binary that does not export the symbol keeps Tesseract's own tprintf (its debug_file).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef int (*wanted_fn)(void);
typedef void (*message_fn)(const char *text, size_t len);

/* Set once, before any engine exists (dossier_capture_install), read by every worker. */
static volatile wanted_fn wanted = NULL;
static volatile message_fn message = NULL;

void dossier_capture_install(wanted_fn w, message_fn m) {
  message = m;
  wanted = w;
}

/* tesseract::tprintf(char const*, ...) */
__attribute__((visibility("default"))) void _ZN9tesseract7tprintfEPKcz(const char *format, ...) {
  wanted_fn w = wanted;
  message_fn m = message;
  if (format == NULL || w == NULL || m == NULL || !w()) {
    return;
  }
  char small[1024];
  va_list args;
  va_start(args, format);
  int n = vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (n < 0) {
    return;
  }
  if ((size_t)n < sizeof small) {
    m(small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    m(small, sizeof small - 1);
    return;
  }
  va_start(args, format);
  vsnprintf(big, (size_t)n + 1, format, args);
  va_end(args);
  m(big, (size_t)n);
  free(big);
}
