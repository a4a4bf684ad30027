#include "segpng.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t position;
    char *message;
    size_t message_size;
} reader_state;

static void on_error(png_structp png, png_const_charp text) {
    reader_state *state = (reader_state *)png_get_error_ptr(png);
    if (state && state->message) snprintf(state->message, state->message_size, "%s", text);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp text) {
    // libpng only warns when the IDAT stream inflates past the rows the header declares, and reads
    // on. Such a file is a decompression bomb or a corrupt one: refused at the first extra byte,
    // before the rest is inflated. (Other warnings, e.g. an sRGB profile libpng knows is slightly
    // off, stay warnings: real files carry them.)
    if (text && strstr(text, "Too much image data")) {
        reader_state *state = (reader_state *)png_get_error_ptr(png);
        if (state && state->message)
            snprintf(state->message, state->message_size, "image data inflates past the size in the header (%s)", text);
        png_longjmp(png, 1);
    }
}

static void read_bytes(png_structp png, png_bytep out, png_size_t length) {
    reader_state *state = (reader_state *)png_get_io_ptr(png);
    if (length > state->size - state->position) {
        png_error(png, "file is truncated");
    }
    memcpy(out, state->data + state->position, length);
    state->position += length;
}

static void fill_info(png_structp png, png_infop info_ptr, segpng_info *info) {
    info->width = png_get_image_width(png, info_ptr);
    info->height = png_get_image_height(png, info_ptr);
    info->file_bit_depth = png_get_bit_depth(png, info_ptr);
    info->color_type = png_get_color_type(png, info_ptr);
    switch (info->color_type) {
    case PNG_COLOR_TYPE_GRAY: info->channels = 1; break;
    case PNG_COLOR_TYPE_PALETTE: info->channels = 1; break;
    case PNG_COLOR_TYPE_GRAY_ALPHA: info->channels = 2; break;
    case PNG_COLOR_TYPE_RGB: info->channels = 3; break;
    default: info->channels = 4; break;
    }
    info->sample_bytes = info->file_bit_depth == 16 ? 2 : 1;
    info->palette_count = 0;
    if (info->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_colorp palette = NULL;
        int count = 0;
        if (png_get_PLTE(png, info_ptr, &palette, &count) == PNG_INFO_PLTE && palette) {
            if (count > 256) count = 256;
            png_bytep alpha = NULL;
            int alpha_count = 0;
            png_get_tRNS(png, info_ptr, &alpha, &alpha_count, NULL);
            for (int i = 0; i < count; i++) {
                info->palette_rgba[i * 4 + 0] = palette[i].red;
                info->palette_rgba[i * 4 + 1] = palette[i].green;
                info->palette_rgba[i * 4 + 2] = palette[i].blue;
                info->palette_rgba[i * 4 + 3] = (alpha && i < alpha_count) ? alpha[i] : 255;
            }
            info->palette_count = count;
        }
    }
}

static int start_reading(const uint8_t *data, size_t size, reader_state *state, segpng_info *info,
                         png_structp *png_out, png_infop *info_out) {
    state->data = data;
    state->size = size;
    state->position = 0;
    state->message = info->message;
    state->message_size = sizeof(info->message);
    info->message[0] = 0;
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        snprintf(info->message, sizeof(info->message), "not a PNG file (bad signature)");
        return -1;
    }
    *png_out = png_create_read_struct(PNG_LIBPNG_VER_STRING, state, on_error, on_warning);
    if (!*png_out) {
        snprintf(info->message, sizeof(info->message), "libpng could not start");
        return -1;
    }
    *info_out = png_create_info_struct(*png_out);
    if (!*info_out) {
        png_destroy_read_struct(png_out, NULL, NULL);
        snprintf(info->message, sizeof(info->message), "libpng could not start");
        return -1;
    }
    return 0;
}

int segpng_read_header(const uint8_t *data, size_t size, segpng_info *info) {
    reader_state state;
    png_structp png = NULL;
    png_infop info_ptr = NULL;
    if (start_reading(data, size, &state, info, &png, &info_ptr) != 0) return -1;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return -1;
    }
    // Our own pixel limit is applied by the caller; lift libpng's 1M-per-side default.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_read_fn(png, &state, read_bytes);
    png_read_info(png, info_ptr);
    fill_info(png, info_ptr, info);
    png_destroy_read_struct(&png, &info_ptr, NULL);
    return 0;
}

int segpng_decode(const uint8_t *data, size_t size, uint8_t *out, size_t out_size, segpng_info *info) {
    reader_state state;
    png_structp png = NULL;
    png_infop info_ptr = NULL;
    png_bytep *volatile rows = NULL;
    if (start_reading(data, size, &state, info, &png, &info_ptr) != 0) return -1;
    if (setjmp(png_jmpbuf(png))) {
        free((void *)rows);
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return -1;
    }
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_read_fn(png, &state, read_bytes);
    png_read_info(png, info_ptr);
    fill_info(png, info_ptr, info);

    int color_type = info->color_type;
    int depth = info->file_bit_depth;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_packing(png);  // one byte per index, the index kept
    } else if (depth < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
    }
    if (depth == 16) {
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe == 1) png_set_swap(png);  // PNG is big-endian
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info_ptr);

    size_t row_bytes = (size_t)info->width * (size_t)info->channels * (size_t)info->sample_bytes;
    if (png_get_rowbytes(png, info_ptr) != row_bytes || row_bytes * (size_t)info->height > out_size) {
        snprintf(info->message, sizeof(info->message), "unexpected row layout");
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return -1;
    }
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (info->height ? info->height : 1));
    if (!rows) {
        snprintf(info->message, sizeof(info->message), "out of memory");
        png_destroy_read_struct(&png, &info_ptr, NULL);
        return -1;
    }
    for (uint32_t y = 0; y < info->height; y++) rows[y] = out + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free((void *)rows);
    png_destroy_read_struct(&png, &info_ptr, NULL);
    return 0;
}

typedef struct {
    uint8_t *buffer;
    size_t size;
    size_t capacity;
    char *message;
    size_t message_size;
} writer_state;

static void on_write_warning(png_structp png, png_const_charp text) { (void)png; (void)text; }

static void write_bytes(png_structp png, png_bytep bytes, png_size_t length) {
    writer_state *state = (writer_state *)png_get_io_ptr(png);
    if (state->size + length > state->capacity) {
        size_t capacity = state->capacity ? state->capacity : 4096;
        while (capacity < state->size + length) capacity *= 2;
        uint8_t *grown = (uint8_t *)realloc(state->buffer, capacity);
        if (!grown) png_error(png, "out of memory");
        state->buffer = grown;
        state->capacity = capacity;
    }
    memcpy(state->buffer + state->size, bytes, length);
    state->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

static void on_write_error(png_structp png, png_const_charp text) {
    writer_state *state = (writer_state *)png_get_error_ptr(png);
    if (state && state->message) snprintf(state->message, state->message_size, "%s", text);
    png_longjmp(png, 1);
}

int segpng_encode(const uint8_t *pixels, uint32_t width, uint32_t height, int color_type, int bit_depth,
                  const uint8_t *palette_rgba, int palette_count,
                  uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    writer_state state = {NULL, 0, 0, message, message_size};
    if (message && message_size) message[0] = 0;
    int channels = color_type == SEGPNG_GRAY ? 1 : color_type == SEGPNG_PALETTE ? 1
                 : color_type == SEGPNG_GRAY_ALPHA ? 2 : color_type == SEGPNG_RGB ? 3 : 4;
    int sample_bytes = bit_depth == 16 ? 2 : 1;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &state, on_write_error, on_write_warning);
    if (!png) return -1;
    png_infop info_ptr = png_create_info_struct(png);
    if (!info_ptr) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info_ptr);
        free(state.buffer);
        return -1;
    }
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_set_write_fn(png, &state, write_bytes, flush_nothing);
    png_set_IHDR(png, info_ptr, width, height, bit_depth, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == SEGPNG_PALETTE) {
        png_color palette[256];
        png_byte alpha[256];
        int last_translucent = -1;
        int count = palette_count > 256 ? 256 : palette_count;
        for (int i = 0; i < count; i++) {
            palette[i].red = palette_rgba[i * 4 + 0];
            palette[i].green = palette_rgba[i * 4 + 1];
            palette[i].blue = palette_rgba[i * 4 + 2];
            alpha[i] = palette_rgba[i * 4 + 3];
            if (alpha[i] != 255) last_translucent = i;
        }
        png_set_PLTE(png, info_ptr, palette, count);
        if (last_translucent >= 0) png_set_tRNS(png, info_ptr, alpha, last_translucent + 1, NULL);
    }
    png_write_info(png, info_ptr);
    if (bit_depth == 16) {
        const uint16_t probe = 1;
        if (*(const uint8_t *)&probe == 1) png_set_swap(png);
    }
    size_t row_bytes = (size_t)width * (size_t)channels * (size_t)sample_bytes;
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info_ptr);
    *out = state.buffer;
    *out_size = state.size;
    return 0;
}

void segpng_free(void *pointer) { free(pointer); }
