/* The console's line editor and dispatcher, driven as a user at a terminal
 * would: type("...") and read what came back on the screen. */
#include <stdio.h>
#include <string.h>

#include "console/console.h"
#include "mg_err.h"
#include "test.h"

static char screen[16384];
static size_t screen_len;
static unsigned long writes;

static void capture(void *ctx, const char *s, size_t n)
{
    (void)ctx;
    writes++;
    if (n > sizeof(screen) - 1 - screen_len)
        n = sizeof(screen) - 1 - screen_len;
    memcpy(screen + screen_len, s, n);
    screen_len += n;
    screen[screen_len] = '\0';
}

static void clear_screen(void)
{
    screen_len = 0;
    screen[0] = '\0';
    writes = 0;
}

static void type_bytes(const void *s, size_t n)
{
    console_input(s, n);
}

static void type(const char *s)
{
    type_bytes(s, strlen(s));
}

/* What the `echo` test command saw on its last run. */
static int runs, last_argc;
static char last_argv[CONSOLE_MAX_ARGS + 1][CONSOLE_LINE_MAX + 1];
static int last_argv_null;

static void echo_run(int argc, char **argv)
{
    int i;

    runs++;
    last_argc = argc;
    for (i = 0; i < argc && i <= CONSOLE_MAX_ARGS; i++)
        snprintf(last_argv[i], sizeof(last_argv[i]), "%s", argv[i]);
    last_argv_null = argv[argc] == NULL;
    console_printf("echo:%d\n", argc);
}

static const struct console_cmd echo_cmd = { "echo", "[word...]", "print the words", echo_run };

static void noop_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
}

/* A console with `help` and `echo`, and an empty screen. */
static void start(void)
{
    console_init(capture, NULL);
    console_register(&echo_cmd);
    runs = 0;
    last_argc = 0;
    clear_screen();
}

MG_TEST(test_console_starts_with_a_prompt)
{
    clear_screen();
    console_init(capture, NULL);
    CHECK(strcmp(screen, "> ") == 0);
}

MG_TEST(test_console_typed_command_runs_with_its_args)
{
    start();
    type("echo one two\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 3);
    CHECK(strcmp(last_argv[0], "echo") == 0);
    CHECK(strcmp(last_argv[1], "one") == 0);
    CHECK(strcmp(last_argv[2], "two") == 0);
    CHECK(last_argv_null);
    CHECK(strcmp(screen, "echo one two\necho:3\n> ") == 0);
}

MG_TEST(test_console_spaces_around_and_between_args_do_not_make_empty_args)
{
    start();
    type("   echo    a   b   \r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 3);
    CHECK(strcmp(last_argv[1], "a") == 0);
    CHECK(strcmp(last_argv[2], "b") == 0);
}

MG_TEST(test_console_backspace_and_del_erase_one_character_each)
{
    start();
    type("echo abx\bc\x7f\x7f" "d\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 2);
    CHECK(strcmp(last_argv[1], "ad") == 0);
    CHECK(strstr(screen, "echo abx\b \bc\b \b\b \bd\n") == screen);
}

MG_TEST(test_console_backspace_on_an_empty_line_does_nothing)
{
    start();
    type("\b\b\x7f");
    CHECK_EQ(screen_len, 0);
    type("echo\r");
    CHECK_EQ(runs, 1);
}

MG_TEST(test_console_ctrl_u_clears_the_line)
{
    start();
    type("rm -rf\x15" "echo ok\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 2);
    CHECK(strcmp(last_argv[1], "ok") == 0);
    CHECK(strstr(screen, "rm -rf\b \b\b \b\b \b\b \b\b \b\b \becho ok\n") == screen);
}

MG_TEST(test_console_ctrl_c_abandons_the_line_with_a_new_prompt)
{
    start();
    type("echo never\x03");
    CHECK_EQ(runs, 0);
    CHECK(strcmp(screen, "echo never^C\n> ") == 0);
    type("\r");
    CHECK_EQ(runs, 0);
}

MG_TEST(test_console_overlong_line_is_refused_with_the_message_and_not_executed)
{
    char line[CONSOLE_LINE_MAX + 20], want[96];

    start();
    memset(line, 'x', sizeof(line));
    memcpy(line, "echo ", 5);
    type_bytes(line, sizeof(line));
    type("\r");
    CHECK_EQ(runs, 0);
    snprintf(want, sizeof(want), "\nerror: line too long (max %d characters)\n> ",
             CONSOLE_LINE_MAX);
    CHECK(screen_len > strlen(want));
    CHECK(strcmp(screen + screen_len - strlen(want), want) == 0);
    /* Only what fits was echoed, then one bell. */
    CHECK_EQ(screen_len, CONSOLE_LINE_MAX + 1 + strlen(want));
    CHECK_EQ(screen[CONSOLE_LINE_MAX], '\a');
    /* The next line starts empty and works. */
    type("echo\r");
    CHECK_EQ(runs, 1);
}

MG_TEST(test_console_line_of_exactly_the_maximum_length_runs)
{
    char line[CONSOLE_LINE_MAX];

    start();
    memset(line, 'y', sizeof(line));
    memcpy(line, "echo ", 5);
    type_bytes(line, sizeof(line));
    type("\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(strlen(last_argv[1]), CONSOLE_LINE_MAX - 5);
}

MG_TEST(test_console_erasing_back_under_the_limit_makes_the_line_valid_again)
{
    char line[CONSOLE_LINE_MAX + 3];

    start();
    memset(line, 'z', sizeof(line));
    memcpy(line, "echo ", 5);
    type_bytes(line, sizeof(line));
    type("\b\b\b\r");   /* the three unseen characters, then one of the line */
    CHECK_EQ(runs, 1);
    CHECK_EQ(strlen(last_argv[1]), CONSOLE_LINE_MAX - 5);
}

MG_TEST(test_console_unknown_command_is_named_in_the_error)
{
    start();
    type("frobnicate now\r");
    CHECK_EQ(runs, 0);
    CHECK(strstr(screen, "\nerror: unknown command 'frobnicate' (try 'help')\n> ") != NULL);
}

MG_TEST(test_console_empty_line_gives_just_a_new_prompt)
{
    start();
    type("\r");
    CHECK(strcmp(screen, "\n> ") == 0);
    clear_screen();
    type("     \r");
    CHECK(strcmp(screen, "     \n> ") == 0);
    CHECK_EQ(runs, 0);
}

MG_TEST(test_console_escape_sequences_are_ignored)
{
    start();
    /* Up arrow, Ctrl-Right, Delete key, F1 (SS3), Alt-x, then a real line. */
    type("ec\x1b[A\x1b[1;5Cho\x1b[3~ \x1bOPhi\x1bx\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 2);
    CHECK(strcmp(last_argv[1], "hi") == 0);
    CHECK(strcmp(screen, "echo hi\necho:2\n> ") == 0);
}

MG_TEST(test_console_an_unfinished_escape_does_not_swallow_enter_or_ctrl_c)
{
    start();
    type("echo a\x1b[12\r");
    CHECK_EQ(runs, 1);
    type("echo b\x1b\x03");
    CHECK_EQ(runs, 1);
    CHECK(strstr(screen, "^C\n> ") != NULL);
    type("echo c\x1b\r");
    CHECK_EQ(runs, 2);
}

MG_TEST(test_console_an_endless_escape_parameter_run_is_dropped)
{
    char params[100];

    start();
    memset(params, '1', sizeof(params));
    type("\x1b[");
    type_bytes(params, sizeof(params));
    type("\x15" "echo ok\r");
    CHECK_EQ(runs, 1);
    CHECK(strcmp(last_argv[1], "ok") == 0);
}

MG_TEST(test_console_crlf_is_one_line_end)
{
    start();
    type("echo x\r\n");
    CHECK_EQ(runs, 1);
    CHECK(strcmp(screen, "echo x\necho:2\n> ") == 0);
    /* Also when the LF arrives in the next read. */
    type("echo y\r");
    type("\n");
    CHECK_EQ(runs, 2);
    CHECK(strcmp(screen + screen_len - 2, "> ") == 0);
    CHECK(strstr(screen, "echo:2\n> \n> ") == NULL);
}

MG_TEST(test_console_lone_lf_and_lone_cr_each_end_a_line)
{
    start();
    type("echo a\necho b\r\recho c\n\n");
    CHECK_EQ(runs, 3);
    CHECK(strcmp(last_argv[1], "c") == 0);
}

MG_TEST(test_console_a_line_split_across_reads_is_assembled)
{
    start();
    type("ec");
    type("ho sp");
    type("lit");
    CHECK_EQ(runs, 0);
    type("\r");
    CHECK_EQ(runs, 1);
    CHECK(strcmp(last_argv[1], "split") == 0);
}

MG_TEST(test_console_other_control_bytes_and_high_bytes_are_ignored)
{
    static const uint8_t in[] = { 'e', 0x01, 'c', '\t', 'h', 0x80, 'o', 0xff, ' ', 0x00,
                                  'q', 0xc3, 0xa9, 0x07, '\r' };

    start();
    type_bytes(in, sizeof(in));
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 2);
    CHECK(strcmp(last_argv[1], "q") == 0);
    CHECK(strcmp(screen, "echo q\necho:2\n> ") == 0);
}

MG_TEST(test_console_garbage_bytes_never_crash_and_leave_the_console_working)
{
    uint8_t garbage[256];
    unsigned round, i, x = 12345;
    size_t at;

    start();
    for (round = 0; round < 64; round++) {
        /* Every value once per round, in an order that changes each round. */
        for (i = 0; i < 256; i++)
            garbage[i] = (uint8_t)(i * (2 * round + 167) + round * 31);
        for (at = 0; at < sizeof(garbage);) {
            size_t n;
            x = x * 1103515245u + 12345u;
            n = 1 + (x >> 16) % 40;
            if (n > sizeof(garbage) - at)
                n = sizeof(garbage) - at;
            type_bytes(garbage + at, n);
            at += n;
        }
    }
    runs = 0;
    type("\x03" "echo alive\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, 2);
    CHECK(strcmp(last_argv[1], "alive") == 0);
}

MG_TEST(test_console_help_lists_registered_commands_sorted_with_args_and_help)
{
    static const struct console_cmd zz = { "zz", "", "last one", noop_run };
    static const struct console_cmd flash = { "flash", "<part>", "show a partition", noop_run };
    const char *e, *f, *h, *z;

    start();
    CHECK_EQ(console_register(&zz), 0);
    CHECK_EQ(console_register(&flash), 0);
    type("help\r");
    e = strstr(screen, "  echo [word...]  print the words\n");
    f = strstr(screen, "  flash <part>    show a partition\n");
    h = strstr(screen, "  help            list commands\n");
    z = strstr(screen, "  zz              last one\n");
    CHECK(e && f && h && z);
    CHECK(e < f && f < h && h < z);
}

MG_TEST(test_console_registering_past_the_table_capacity_is_refused)
{
    static struct console_cmd extra[CONSOLE_MAX_CMDS];
    static char names[CONSOLE_MAX_CMDS][8];
    int i, ok = 0;

    console_init(capture, NULL);   /* `help` takes one slot */
    for (i = 0; i < CONSOLE_MAX_CMDS; i++) {
        snprintf(names[i], sizeof(names[i]), "c%02d", i);
        extra[i].name = names[i];
        extra[i].args = "";
        extra[i].help = "";
        extra[i].run = noop_run;
        if (console_register(&extra[i]) == 0)
            ok++;
    }
    CHECK_EQ(ok, CONSOLE_MAX_CMDS - 1);
    CHECK_EQ(console_register(&extra[CONSOLE_MAX_CMDS - 1]), MG_ERR_NOSPC);
    /* The ones that fit still run; the refused one is unknown. */
    clear_screen();
    type("c46\r");
    CHECK(strstr(screen, "unknown") == NULL);
    type("c47\r");
    CHECK(strstr(screen, "error: unknown command 'c47'") != NULL);
}

MG_TEST(test_console_duplicate_and_malformed_commands_are_refused)
{
    static const struct console_cmd dup = { "echo", "", "again", noop_run };
    static const struct console_cmd spaced = { "two words", "", "", noop_run };
    static const struct console_cmd empty = { "", "", "", noop_run };
    static const struct console_cmd no_run = { "idle", "", "", NULL };

    start();
    CHECK_EQ(console_register(&dup), MG_ERR_EXIST);
    CHECK_EQ(console_register(&spaced), MG_ERR_INVAL);
    CHECK_EQ(console_register(&empty), MG_ERR_INVAL);
    CHECK_EQ(console_register(&no_run), MG_ERR_INVAL);
    CHECK_EQ(console_register(NULL), MG_ERR_INVAL);
}

MG_TEST(test_console_more_than_the_maximum_args_is_refused_and_not_executed)
{
    start();
    type("echo 1 2 3 4 5 6 7\r");
    CHECK_EQ(runs, 1);
    CHECK_EQ(last_argc, CONSOLE_MAX_ARGS);
    type("echo 1 2 3 4 5 6 7 8\r");
    CHECK_EQ(runs, 1);
    CHECK(strstr(screen, "error: too many arguments (max 8)\n> ") != NULL);
}

MG_TEST(test_console_printf_past_its_buffer_is_cut_with_an_ellipsis)
{
    static char big[CONSOLE_OUT_MAX + 100];

    start();
    memset(big, 'w', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    console_printf("%s|%u|%lu|%zu", big, 1u, 2ul, (size_t)3);
    CHECK_EQ(screen_len, CONSOLE_OUT_MAX - 1);
    CHECK(strcmp(screen + screen_len - 4, "...\n") == 0);
    clear_screen();
    console_printf("%d %s %u\n", -4, "ok", 7u);
    CHECK(strcmp(screen, "-4 ok 7\n") == 0);
}

MG_TEST(test_console_echo_of_one_read_goes_out_in_one_write)
{
    start();
    type("echo abc");
    CHECK_EQ(writes, 1);
    CHECK(strcmp(screen, "echo abc") == 0);
}

MG_TEST(test_console_output_outside_input_is_written_at_once)
{
    start();
    console_write("log line\n", 9);
    CHECK_EQ(writes, 1);
    CHECK(strcmp(screen, "log line\n") == 0);
}

MG_TEST(test_console_input_before_init_or_without_a_writer_is_harmless)
{
    console_init(NULL, NULL);
    type("help\r");
    console_printf("nothing %d\n", 1);
    start();
    type("echo fine\r");
    CHECK_EQ(runs, 1);
}
