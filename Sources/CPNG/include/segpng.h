#ifndef SEGPNG_H
#define SEGPNG_H
#include <stddef.h>
#include <stdint.h>

// Every libpng call lives behind setjmp in segpng.c: a libpng error longjmps, and that jump
// must never cross a Swift frame. These functions return 0 on success and -1 on failure,
// with the reason in `message`.

enum { SEGPNG_GRAY = 0, SEGPNG_RGB = 2, SEGPNG_PALETTE = 3, SEGPNG_GRAY_ALPHA = 4, SEGPNG_RGBA = 6 };

typedef struct {
    uint32_t width;
    uint32_t height;
    int file_bit_depth;   // 1, 2, 4, 8 or 16, as stored
    int color_type;       // SEGPNG_* as stored
    int channels;         // samples per pixel after decoding (palette: 1, the index)
    int sample_bytes;     // 1, or 2 for 16-bit files (host byte order)
    int palette_count;    // entries in palette_rgba (palette images only)
    uint8_t palette_rgba[256 * 4];
    char message[200];
} segpng_info;

// Reads the signature and IHDR (and PLTE/tRNS) without decoding pixels.
int segpng_read_header(const uint8_t *data, size_t size, segpng_info *info);

// Decodes the whole image into `out`, which holds width*height*channels*sample_bytes bytes.
// Low bit depths become one byte per sample: gray is scaled to 0-255 (as Pillow does),
// palette indices are kept.
int segpng_decode(const uint8_t *data, size_t size, uint8_t *out, size_t out_size, segpng_info *info);

// Encodes rows of `pixels` (8-bit, or 16-bit host order when bit_depth is 16).
// On success *out is a malloc'd buffer the caller frees with segpng_free.
int segpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int color_type, int bit_depth,
                  const uint8_t *palette_rgba, int palette_count,
                  uint8_t **out, size_t *out_size, char *message, size_t message_size);

void segpng_free(void *pointer);

#endif
