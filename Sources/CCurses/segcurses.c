#include "segcurses.h"
#include <curses.h>
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <term.h>
#include <unistd.h>

static volatile sig_atomic_t running = 0;
static SCREEN *screen = NULL;

// Bytes that take segterm's graphics off the terminal (kitty keeps images until told), written
// by the signal handler too: write(2) is async-signal-safe, and the buffer is set before any
// signal can need it.
// They start with ST (ESC \\): a signal may land in the middle of an image being sent, and the
// terminal must leave that sequence before it reads the deletes.
static char exit_bytes[514];
static volatile sig_atomic_t exit_bytes_length = 0;

void segcurses_set_exit_bytes(const char *bytes, size_t count) {
    exit_bytes_length = 0;
    if (count == 0 || count > sizeof(exit_bytes) - 2) return;
    exit_bytes[0] = '\033';
    exit_bytes[1] = '\\';
    memcpy(exit_bytes + 2, bytes, count);
    exit_bytes_length = (sig_atomic_t)(count + 2);
}

static void restore_and_reraise(int signal_number) {
    if (running) {
        running = 0;
        if (exit_bytes_length > 0) write(STDOUT_FILENO, exit_bytes, (size_t)exit_bytes_length);
        static const char off[] = "\033[?1016l\033[?1006l\033[?1002l";
        write(STDOUT_FILENO, off, sizeof(off) - 1);
        endwin();
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void install_handlers(void) {
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        struct sigaction action;
        memset(&action, 0, sizeof(action));
        action.sa_handler = restore_and_reraise;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESETHAND;
        sigaction(signals[i], &action, NULL);
    }
}

// A parent may hand us these signals blocked or ignored (some job runners and daemons do): the
// terminal then never tells us it was resized, and SIGTERM would leave it in curses mode.
static void accept_terminal_signals(void) {
    int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGCONT};
    sigset_t set;
    sigemptyset(&set);
    for (unsigned i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) sigaddset(&set, signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    // ncurses installs its SIGWINCH handler only over the default disposition.
    struct sigaction current;
    if (sigaction(SIGWINCH, NULL, &current) == 0 && current.sa_handler == SIG_IGN) signal(SIGWINCH, SIG_DFL);
}

int segcurses_start(const char *term_name, int use_colors, segcurses_caps *caps) {
    setlocale(LC_ALL, "");
    accept_terminal_signals();
    screen = newterm(term_name, stdout, stdin);
    if (!screen) return -1;
    set_term(screen);
    running = 1;
    install_handlers();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    meta(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(ALL_MOUSE_EVENTS | REPORT_MOUSE_POSITION, NULL);
    mouseinterval(0);
    // SGR mouse reporting (1006) with drag events (1002), whatever the terminfo entry asks for:
    // X10 reports stop at column 223. Entries that know SGR (xterm) let ncurses parse it; for the
    // others the Swift side reads the sequences itself.
    fputs("\033[?1002h\033[?1006h", stdout);
    fflush(stdout);
    memset(caps, 0, sizeof(*caps));
    if (use_colors && has_colors()) {
        start_color();
        use_default_colors();
        caps->has_colors = 1;
        caps->colors = COLORS;
        caps->color_pairs = COLOR_PAIRS;
        caps->direct_color = tigetflag("RGB") > 0 || COLORS >= 0x1000000;
    }
    return 0;
}

void segcurses_stop(void) {
    if (running) {
        running = 0;
        fputs("\033[?1016l\033[?1006l\033[?1002l", stdout);
        fflush(stdout);
        endwin();
    }
    if (screen) {
        delscreen(screen);
        screen = NULL;
    }
}

int segcurses_is_running(void) { return running; }

void segcurses_size(int *rows, int *cols) {
    *rows = LINES;
    *cols = COLS;
}

int segcurses_init_pair(int pair, int foreground, int background) {
    return init_extended_pair(pair, foreground, background);
}

int segcurses_put_text(int row, int col, const uint32_t *codepoints, int count, int pair, int bold, int reverse) {
    // A spacing character and up to CCHARW_MAX - 1 combining marks.
    wchar_t text[CCHARW_MAX + 1];
    int n = count < CCHARW_MAX ? count : CCHARW_MAX;
    for (int i = 0; i < n; i++) text[i] = (wchar_t)codepoints[i];
    text[n] = 0;
    cchar_t cell;
    attr_t attrs = A_NORMAL;
    if (bold) attrs |= A_BOLD;
    if (reverse) attrs |= A_REVERSE;
    int pair_number = pair;
    // setcchar takes the pair in its `opts` argument when it does not fit a short.
    setcchar(&cell, text, attrs, 0, &pair_number);
    return mvadd_wch(row, col, &cell);
}

int segcurses_put(int row, int col, uint32_t codepoint, int pair, int bold, int reverse) {
    return segcurses_put_text(row, col, &codepoint, 1, pair, bold, reverse);
}

void segcurses_write_raw(const char *bytes, size_t count) {
    // After refresh, so ncurses' own output is out first; written whole, retrying short writes.
    fflush(stdout);
    while (count > 0) {
        ssize_t n = write(STDOUT_FILENO, bytes, count);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return;
        }
        bytes += n;
        count -= (size_t)n;
    }
}

void segcurses_clear(void) { clearok(stdscr, TRUE); }

void segcurses_refresh(void) { refresh(); }

void segcurses_read(int timeout_ms, segcurses_event *event) {
    memset(event, 0, sizeof(*event));
    timeout(timeout_ms);
    wint_t value = 0;
    int status = get_wch(&value);
    if (status == ERR) {
        // ERR is also what a timeout gives; a hung-up terminal shows in poll.
        struct pollfd input = {STDIN_FILENO, POLLIN, 0};
        if (poll(&input, 1, 0) > 0 && (input.revents & (POLLHUP | POLLERR | POLLNVAL))) event->kind = SEGCURSES_HANGUP;
        return;
    }
    if (status == KEY_CODE_YES) {
        if (value == KEY_RESIZE) {
            event->kind = SEGCURSES_RESIZE;
            return;
        }
        if (value == KEY_MOUSE) {
            MEVENT mouse;
            if (getmouse(&mouse) == OK) {
                event->kind = SEGCURSES_MOUSE;
                event->mouse_x = mouse.x;
                event->mouse_y = mouse.y;
                event->mouse_buttons = (uint32_t)mouse.bstate;
            }
            return;
        }
        event->kind = SEGCURSES_KEY;
        event->value = (uint32_t)value;
        return;
    }
    event->kind = SEGCURSES_CHAR;
    event->value = (uint32_t)value;
}

int segcurses_key_code(const char *name) {
    if (!strcmp(name, "up")) return KEY_UP;
    if (!strcmp(name, "down")) return KEY_DOWN;
    if (!strcmp(name, "left")) return KEY_LEFT;
    if (!strcmp(name, "right")) return KEY_RIGHT;
    if (!strcmp(name, "shift-up")) return KEY_SR;
    if (!strcmp(name, "shift-down")) return KEY_SF;
    if (!strcmp(name, "shift-left")) return KEY_SLEFT;
    if (!strcmp(name, "shift-right")) return KEY_SRIGHT;
    if (!strcmp(name, "page-up")) return KEY_PPAGE;
    if (!strcmp(name, "page-down")) return KEY_NPAGE;
    if (!strcmp(name, "home")) return KEY_HOME;
    if (!strcmp(name, "end")) return KEY_END;
    if (!strcmp(name, "enter")) return KEY_ENTER;
    if (!strcmp(name, "backspace")) return KEY_BACKSPACE;
    if (!strcmp(name, "delete")) return KEY_DC;
    return -1;
}

uint32_t segcurses_mouse_bit(const char *name) {
    if (!strcmp(name, "left-press")) return BUTTON1_PRESSED;
    if (!strcmp(name, "left-release")) return BUTTON1_RELEASED;
    if (!strcmp(name, "left-click")) return BUTTON1_CLICKED;
    if (!strcmp(name, "right-press")) return BUTTON3_PRESSED;
    if (!strcmp(name, "right-release")) return BUTTON3_RELEASED;
    if (!strcmp(name, "right-click")) return BUTTON3_CLICKED;
    if (!strcmp(name, "wheel-up")) return BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
    if (!strcmp(name, "wheel-down")) return BUTTON5_PRESSED;
#endif
    if (!strcmp(name, "motion")) return REPORT_MOUSE_POSITION;
    return 0;
}
