#ifndef SEGCURSES_H
#define SEGCURSES_H
#include <stdint.h>
#include <stddef.h>

// Plain C functions over ncursesw, for the parts Swift cannot call directly (macros, variadic
// and wide-character APIs), and the signal handling that restores the terminal.

typedef struct {
    int colors;        // COLORS after start_color (16777216 on direct-colour terminals)
    int color_pairs;   // COLOR_PAIRS
    int has_colors;
    int direct_color;  // the terminfo entry has the RGB capability
} segcurses_caps;

// Starts curses on the controlling terminal. `term_name` may be NULL (use $TERM).
// Returns 0 on success. Installs handlers that restore the terminal on SIGINT, SIGTERM,
// SIGHUP, SIGQUIT and fatal signals, then let the signal take its default course.
int segcurses_start(const char *term_name, int use_colors, segcurses_caps *caps);
void segcurses_stop(void);
int segcurses_is_running(void);

void segcurses_size(int *rows, int *cols);
int segcurses_init_pair(int pair, int foreground, int background);
int segcurses_put(int row, int col, uint32_t codepoint, int pair, int bold, int reverse);
void segcurses_clear(void);
void segcurses_refresh(void);

// SEGCURSES_HANGUP: the terminal is gone (closed window, dropped SSH connection, killed tmux pane).
enum { SEGCURSES_NONE = 0, SEGCURSES_CHAR = 1, SEGCURSES_KEY = 2, SEGCURSES_MOUSE = 3, SEGCURSES_RESIZE = 4, SEGCURSES_HANGUP = 5 };
typedef struct {
    int kind;          // SEGCURSES_*
    uint32_t value;    // the character, or the KEY_* code
    int mouse_x, mouse_y;
    uint32_t mouse_buttons;  // ncurses mmask_t bits
} segcurses_event;

// A cell of a spacing character and combining marks (count code points in all).
int segcurses_put_text(int row, int col, const uint32_t *codepoints, int count, int pair, int bold, int reverse);

// Writes bytes to the terminal past ncurses (graphics), after flushing what ncurses buffered.
void segcurses_write_raw(const char *bytes, size_t count);

// Bytes the signal handler writes before restoring the terminal (at most 512; none when 0).
void segcurses_set_exit_bytes(const char *bytes, size_t count);

// Waits up to timeout_ms (negative: forever) for one input event.
void segcurses_read(int timeout_ms, segcurses_event *event);

// The KEY_* values Swift needs.
int segcurses_key_code(const char *name);
uint32_t segcurses_mouse_bit(const char *name);

// A new pseudo-terminal: the master's descriptor (or -1), its slave's path written to `name`.
int segpty_open(char *name, size_t capacity);
// POSIX_SPAWN_SETSID (glibc declares it only with _GNU_SOURCE).
short segpty_spawn_setsid_flag(void);

#endif
