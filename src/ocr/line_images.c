/*
 * Tesseract's line images kept raw instead of as PNG.
 *
 * Before the text model reads a line, Tesseract 5.3 (ImageData::SetPixInternal) stores the
 * line's image in memory as a PNG (Leptonica's pixWriteMem with IFF_PNG) and decodes it again
 * a moment later: a format meant for training files, zlib at its default level, on every line
 * of every page. It costs about 8% of a page's CPU (perf on `dossier run --jobs 1`,
 * docs/development.md). Upstream agrees it is needless (tesseract-ocr/tesseract#2965 added a
 * build option to keep the Pix itself; Debian's build does not set it).
 *
 * The dossier binary defines pixWriteMem here; libtesseract calls it through its PLT and the
 * linker exports a definition that a linked shared library references, so libtesseract's calls
 * land here. A PNG asked for is written instead in Leptonica's own serialised format (SPIX:
 * the raster copied as it is, lossless for every depth, colour map included), which
 * pixReadMem recognises by its header and reads back as the same image. Every other format
 * goes to Leptonica's pixWriteMem unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <leptonica/allheaders.h>

typedef l_ok (*write_mem_fn)(l_uint8 **, size_t *, PIX *, l_int32);

/* Images written raw instead of as PNG: tests check the redirection is in place. */
static unsigned long kept_raw = 0;

unsigned long dossier_line_images_kept_raw(void) { return __atomic_load_n(&kept_raw, __ATOMIC_RELAXED); }

__attribute__((visibility("default"))) l_ok pixWriteMem(l_uint8 **pdata, size_t *psize, PIX *pix,
                                                        l_int32 format) {
  if (format == IFF_PNG && pix != NULL && pixWriteMemSpix(pdata, psize, pix) == 0) {
    __atomic_add_fetch(&kept_raw, 1, __ATOMIC_RELAXED);
    return 0;
  }
  static write_mem_fn leptonica = NULL;
  write_mem_fn real = __atomic_load_n(&leptonica, __ATOMIC_ACQUIRE);
  if (real == NULL) {
    real = (write_mem_fn)dlsym(RTLD_NEXT, "pixWriteMem");
    if (real == NULL) {
      return 1;
    }
    __atomic_store_n(&leptonica, real, __ATOMIC_RELEASE);
  }
  return real(pdata, psize, pix, format);
}
