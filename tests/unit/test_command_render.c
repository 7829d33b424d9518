/* test_command_render.c - COMMAND INFO / COMMAND DOCS rendering, byte for byte.
 *
 * The renderer is checked against replies captured from redis-server 7.0
 * (the block between the BEGIN/END markers below, produced by
 * `utils/gen-command-table --test-vectors get set config blpop xread lmpop`;
 * paste its output there again after regenerating the table).  GET/SET
 * cover plain and noted key specs, CONFIG a container with subcommands and
 * tips, BLPOP a blocking command, XREAD a keyword key spec and LMPOP a
 * keynum key spec.  Each is rendered into a RESP3 and a RESP2 byte buffer,
 * the way the server's reply layer will encode it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command_render.h"
#include "commands.h"
#include "tap.h"

/* ---- BEGIN captured replies (generated, do not edit) ---------------------- */
/* Captured by utils/gen-command-table --test-vectors from redis-server 7.0.15.
 * Subcommands are sorted by name (Redis's own order changes on every
 * start); every other byte is exactly what Redis sent. */

/* COMMAND INFO get, RESP3 */
static const char info_get_resp3[] =
    "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n"
    "+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n"
    "+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n"
    "%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n"
    "spec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

/* COMMAND DOCS get, RESP3 */
static const char docs_get_resp3[] =
    "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n"
    "since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n"
    "O(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\n"
    "key\r\n$14\r\nkey_spec_index\r\n:0\r\n";

/* COMMAND INFO set, RESP3 */
static const char info_set_resp3[] =
    "*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n~2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n~3\r\n"
    "+@write\r\n+@string\r\n+@slow\r\n~0\r\n~1\r\n%4\r\n$5\r\nnotes\r\n$48\r\n"
    "RW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n"
    "~4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n"
    "%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\n"
    "find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n"
    ":0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

/* COMMAND DOCS set, RESP3 */
static const char docs_set_resp3[] =
    "%1\r\n$3\r\nset\r\n%6\r\n$7\r\nsummary\r\n$29\r\n"
    "Set the string value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n"
    "$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n~4\r\n*2\r\n$6\r\n"
    "2.6.12\r\n$44\r\nAdded the `EX`, `PX`, `NX` and `XX` options.\r\n*2\r\n"
    "$5\r\n6.0.0\r\n$27\r\nAdded the `KEEPTTL` option.\r\n*2\r\n$5\r\n6.2.0\r\n"
    "$42\r\nAdded the `GET`, `EXAT` and `PXAT` option.\r\n*2\r\n$5\r\n7.0.0\r\n"
    "$55\r\nAllowed the `NX` and `GET` options to be used together.\r\n"
    "$9\r\narguments\r\n*5\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    "$14\r\nkey_spec_index\r\n:0\r\n%2\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\n"
    "string\r\n%5\r\n$4\r\nname\r\n$9\r\ncondition\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\n"
    "since\r\n$6\r\n2.6.12\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n"
    "%3\r\n$4\r\nname\r\n$2\r\nnx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$2\r\n"
    "NX\r\n%3\r\n$4\r\nname\r\n$2\r\nxx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n"
    "$2\r\nXX\r\n%5\r\n$4\r\nname\r\n$3\r\nget\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\n"
    "token\r\n$3\r\nGET\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"
    "%4\r\n$4\r\nname\r\n$10\r\nexpiration\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n"
    "~1\r\n+optional\r\n$9\r\narguments\r\n*5\r\n%4\r\n$4\r\nname\r\n$7\r\nseconds\r\n"
    "$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n$2\r\nEX\r\n$5\r\nsince\r\n$6\r\n"
    "2.6.12\r\n%4\r\n$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n"
    "$5\r\ntoken\r\n$2\r\nPX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n%4\r\n$4\r\nname\r\n$17\r\n"
    "unix-time-seconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$5\r\ntoken\r\n$4\r\n"
    "EXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n%4\r\n$4\r\nname\r\n$22\r\n"
    "unix-time-milliseconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$5\r\ntoken\r\n$4\r\n"
    "PXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n%4\r\n$4\r\nname\r\n$7\r\nkeepttl\r\n$4\r\n"
    "type\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$7\r\nKEEPTTL\r\n$5\r\nsince\r\n$5\r\n"
    "6.0.0\r\n";

/* COMMAND INFO config, RESP3 */
static const char info_config_resp3[] =
    "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n"
    "*5\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n"
    "+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n"
    "~0\r\n*10\r\n$11\r\nconfig|help\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n"
    ":0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n~0\r\n*10\r\n$16\r\nconfig|resetstat\r\n:2\r\n~4\r\n"
    "+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n"
    "+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n*10\r\n$14\r\nconfig|rewrite\r\n:2\r\n"
    "~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n"
    "+@admin\r\n+@slow\r\n+@dangerous\r\n~0\r\n~0\r\n~0\r\n*10\r\n$10\r\nconfig|set\r\n"
    ":-4\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n"
    "+@admin\r\n+@slow\r\n+@dangerous\r\n~2\r\n$24\r\n"
    "request_policy:all_nodes\r\n$29\r\nresponse_policy:all_succeeded\r\n"
    "~0\r\n~0\r\n";

/* COMMAND DOCS config, RESP3 */
static const char docs_config_resp3[] =
    "%1\r\n$6\r\nconfig\r\n%5\r\n$7\r\nsummary\r\n$45\r\n"
    "A container for server configuration commands\r\n$5\r\nsince\r\n$5\r\n"
    "2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$22\r\n"
    "Depends on subcommand.\r\n$11\r\nsubcommands\r\n%5\r\n$10\r\nconfig|get\r\n"
    "%6\r\n$7\r\nsummary\r\n$42\r\n"
    "Get the values of configuration parameters\r\n$5\r\nsince\r\n$5\r\n"
    "2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\n"
    "O(N) when N is the number of configuration parameters provided\r\n"
    "$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\n"
    "Added the ability to pass multiple pattern parameters in one call\r\n"
    "$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$5\r\n"
    "block\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n%2\r\n$4\r\n"
    "name\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n$11\r\nconfig|help\r\n"
    "%4\r\n$7\r\nsummary\r\n$49\r\n"
    "Show helpful text about the different subcommands\r\n$5\r\nsince\r\n"
    "$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
    "$16\r\nconfig|resetstat\r\n%4\r\n$7\r\nsummary\r\n$32\r\n"
    "Reset the stats returned by INFO\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\n"
    "group\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$14\r\n"
    "config|rewrite\r\n%4\r\n$7\r\nsummary\r\n$63\r\n"
    "Rewrite the configuration file with the in memory configuration\r\n"
    "$5\r\nsince\r\n$5\r\n2.8.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n"
    "$4\r\nO(1)\r\n$10\r\nconfig|set\r\n%6\r\n$7\r\nsummary\r\n$48\r\n"
    "Set configuration parameters to the given values\r\n$5\r\nsince\r\n"
    "$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\n"
    "O(N) when N is the number of configuration parameters provided\r\n"
    "$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n7.0.0\r\n$57\r\n"
    "Added the ability to set multiple parameters in one call.\r\n$9\r\n"
    "arguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$15\r\nparameter_value\r\n$4\r\ntype\r\n"
    "$5\r\nblock\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n$9\r\narguments\r\n*2\r\n%2\r\n$4\r\n"
    "name\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n%2\r\n$4\r\nname\r\n$5\r\n"
    "value\r\n$4\r\ntype\r\n$6\r\nstring\r\n";

/* COMMAND INFO blpop, RESP3 */
static const char info_blpop_resp3[] =
    "*1\r\n*10\r\n$5\r\nblpop\r\n:-3\r\n~3\r\n+write\r\n+noscript\r\n+blocking\r\n:1\r\n"
    ":-2\r\n:1\r\n~4\r\n+@write\r\n+@list\r\n+@slow\r\n+@blocking\r\n~0\r\n~1\r\n%3\r\n"
    "$5\r\nflags\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\nbegin_search\r\n%2\r\n"
    "$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\n"
    "find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n"
    ":-2\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n";

/* COMMAND DOCS blpop, RESP3 */
static const char docs_blpop_resp3[] =
    "%1\r\n$5\r\nblpop\r\n%6\r\n$7\r\nsummary\r\n$75\r\n"
    "Remove and get the first element in a list, or block until one is available\r\n"
    "$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n"
    "$44\r\nO(N) where N is the number of provided keys.\r\n$7\r\nhistory\r\n"
    "~1\r\n*2\r\n$5\r\n6.0.0\r\n$59\r\n"
    "`timeout` is interpreted as a double instead of an integer.\r\n"
    "$9\r\narguments\r\n*2\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    "$14\r\nkey_spec_index\r\n:0\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n%2\r\n$4\r\n"
    "name\r\n$7\r\ntimeout\r\n$4\r\ntype\r\n$6\r\ndouble\r\n";

/* COMMAND INFO xread, RESP3 */
static const char info_xread_resp3[] =
    "*1\r\n*10\r\n$5\r\nxread\r\n:-4\r\n~3\r\n+readonly\r\n+blocking\r\n"
    "+movablekeys\r\n:0\r\n:0\r\n:0\r\n~4\r\n+@read\r\n+@stream\r\n+@slow\r\n"
    "+@blocking\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\n"
    "begin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n%2\r\n$7\r\n"
    "keyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\n"
    "type\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n"
    ":1\r\n$5\r\nlimit\r\n:2\r\n~0\r\n";

/* COMMAND DOCS xread, RESP3 */
static const char docs_xread_resp3[] =
    "%1\r\n$5\r\nxread\r\n%5\r\n$7\r\nsummary\r\n$129\r\n"
    "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.\r\n"
    "$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nstream\r\n$10\r\ncomplexity\r\n"
    "$272\r\n"
    "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.\r\n"
    "$9\r\narguments\r\n*3\r\n%4\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\n"
    "integer\r\n$5\r\ntoken\r\n$5\r\nCOUNT\r\n$5\r\nflags\r\n~1\r\n+optional\r\n%4\r\n"
    "$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n"
    "$5\r\nBLOCK\r\n$5\r\nflags\r\n~1\r\n+optional\r\n%4\r\n$4\r\nname\r\n$7\r\nstreams\r\n"
    "$4\r\ntype\r\n$5\r\nblock\r\n$5\r\ntoken\r\n$7\r\nSTREAMS\r\n$9\r\narguments\r\n*2\r\n"
    "%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n"
    ":0\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n%3\r\n$4\r\nname\r\n$2\r\nid\r\n$4\r\ntype\r\n"
    "$6\r\nstring\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n";

/* COMMAND INFO lmpop, RESP3 */
static const char info_lmpop_resp3[] =
    "*1\r\n*10\r\n$5\r\nlmpop\r\n:-4\r\n~2\r\n+write\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n"
    "~3\r\n+@write\r\n+@list\r\n+@slow\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~3\r\n+RW\r\n"
    "+access\r\n+delete\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
    "$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$6\r\n"
    "keynum\r\n$4\r\nspec\r\n%3\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\n"
    "keystep\r\n:1\r\n~0\r\n";

/* COMMAND DOCS lmpop, RESP3 */
static const char docs_lmpop_resp3[] =
    "%1\r\n$5\r\nlmpop\r\n%5\r\n$7\r\nsummary\r\n$24\r\nPop elements from a list\r\n"
    "$5\r\nsince\r\n$5\r\n7.0.0\r\n$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n"
    "$87\r\n"
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.\r\n"
    "$9\r\narguments\r\n*4\r\n%2\r\n$4\r\nname\r\n$7\r\nnumkeys\r\n$4\r\ntype\r\n$7\r\n"
    "integer\r\n%4\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\n"
    "key_spec_index\r\n:0\r\n$5\r\nflags\r\n~1\r\n+multiple\r\n%3\r\n$4\r\nname\r\n$5\r\n"
    "where\r\n$4\r\ntype\r\n$5\r\noneof\r\n$9\r\narguments\r\n*2\r\n%3\r\n$4\r\nname\r\n"
    "$4\r\nleft\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$4\r\nLEFT\r\n%3\r\n"
    "$4\r\nname\r\n$5\r\nright\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$5\r\n"
    "RIGHT\r\n%4\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\n"
    "token\r\n$5\r\nCOUNT\r\n$5\r\nflags\r\n~1\r\n+optional\r\n";

/* COMMAND INFO get, RESP2 */
static const char info_get_resp2[] =
    "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n"
    "+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n"
    "+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n"
    "*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n"
    "spec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

/* COMMAND DOCS get, RESP2 */
static const char docs_get_resp2[] =
    "*2\r\n$3\r\nget\r\n*10\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\n"
    "since\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\n"
    "O(1)\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\n"
    "key\r\n$14\r\nkey_spec_index\r\n:0\r\n";

/* COMMAND INFO set, RESP2 */
static const char info_set_resp2[] =
    "*1\r\n*10\r\n$3\r\nset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:1\r\n:1\r\n*3\r\n"
    "+@write\r\n+@string\r\n+@slow\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$48\r\n"
    "RW and ACCESS due to the optional `GET` argument\r\n$5\r\nflags\r\n"
    "*4\r\n+RW\r\n+access\r\n+update\r\n+variable_flags\r\n$12\r\nbegin_search\r\n"
    "*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\n"
    "find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n"
    ":0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

/* COMMAND DOCS set, RESP2 */
static const char docs_set_resp2[] =
    "*2\r\n$3\r\nset\r\n*12\r\n$7\r\nsummary\r\n$29\r\n"
    "Set the string value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n"
    "$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n*4\r\n*2\r\n$6\r\n"
    "2.6.12\r\n$44\r\nAdded the `EX`, `PX`, `NX` and `XX` options.\r\n*2\r\n"
    "$5\r\n6.0.0\r\n$27\r\nAdded the `KEEPTTL` option.\r\n*2\r\n$5\r\n6.2.0\r\n"
    "$42\r\nAdded the `GET`, `EXAT` and `PXAT` option.\r\n*2\r\n$5\r\n7.0.0\r\n"
    "$55\r\nAllowed the `NX` and `GET` options to be used together.\r\n"
    "$9\r\narguments\r\n*5\r\n*6\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    "$14\r\nkey_spec_index\r\n:0\r\n*4\r\n$4\r\nname\r\n$5\r\nvalue\r\n$4\r\ntype\r\n$6\r\n"
    "string\r\n*10\r\n$4\r\nname\r\n$9\r\ncondition\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\n"
    "since\r\n$6\r\n2.6.12\r\n$5\r\nflags\r\n*1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n"
    "*6\r\n$4\r\nname\r\n$2\r\nnx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$2\r\n"
    "NX\r\n*6\r\n$4\r\nname\r\n$2\r\nxx\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n"
    "$2\r\nXX\r\n*10\r\n$4\r\nname\r\n$3\r\nget\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\n"
    "token\r\n$3\r\nGET\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\nflags\r\n*1\r\n+optional\r\n"
    "*8\r\n$4\r\nname\r\n$10\r\nexpiration\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\nflags\r\n"
    "*1\r\n+optional\r\n$9\r\narguments\r\n*5\r\n*8\r\n$4\r\nname\r\n$7\r\nseconds\r\n"
    "$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n$2\r\nEX\r\n$5\r\nsince\r\n$6\r\n"
    "2.6.12\r\n*8\r\n$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n"
    "$5\r\ntoken\r\n$2\r\nPX\r\n$5\r\nsince\r\n$6\r\n2.6.12\r\n*8\r\n$4\r\nname\r\n$17\r\n"
    "unix-time-seconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$5\r\ntoken\r\n$4\r\n"
    "EXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n*8\r\n$4\r\nname\r\n$22\r\n"
    "unix-time-milliseconds\r\n$4\r\ntype\r\n$9\r\nunix-time\r\n$5\r\ntoken\r\n$4\r\n"
    "PXAT\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n*8\r\n$4\r\nname\r\n$7\r\nkeepttl\r\n$4\r\n"
    "type\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$7\r\nKEEPTTL\r\n$5\r\nsince\r\n$5\r\n"
    "6.0.0\r\n";

/* COMMAND INFO config, RESP2 */
static const char info_config_resp2[] =
    "*1\r\n*10\r\n$6\r\nconfig\r\n:-2\r\n*0\r\n:0\r\n:0\r\n:0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n"
    "*5\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n"
    "+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n"
    "*0\r\n*10\r\n$11\r\nconfig|help\r\n:2\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n"
    ":0\r\n*1\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n*10\r\n$16\r\nconfig|resetstat\r\n:2\r\n*4\r\n"
    "+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n"
    "+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n*10\r\n$14\r\nconfig|rewrite\r\n:2\r\n"
    "*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n"
    "+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n*10\r\n$10\r\nconfig|set\r\n"
    ":-4\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n"
    "+@admin\r\n+@slow\r\n+@dangerous\r\n*2\r\n$24\r\n"
    "request_policy:all_nodes\r\n$29\r\nresponse_policy:all_succeeded\r\n"
    "*0\r\n*0\r\n";

/* COMMAND DOCS config, RESP2 */
static const char docs_config_resp2[] =
    "*2\r\n$6\r\nconfig\r\n*10\r\n$7\r\nsummary\r\n$45\r\n"
    "A container for server configuration commands\r\n$5\r\nsince\r\n$5\r\n"
    "2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$22\r\n"
    "Depends on subcommand.\r\n$11\r\nsubcommands\r\n*10\r\n$10\r\nconfig|get\r\n"
    "*12\r\n$7\r\nsummary\r\n$42\r\n"
    "Get the values of configuration parameters\r\n$5\r\nsince\r\n$5\r\n"
    "2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\n"
    "O(N) when N is the number of configuration parameters provided\r\n"
    "$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$65\r\n"
    "Added the ability to pass multiple pattern parameters in one call\r\n"
    "$9\r\narguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$5\r\n"
    "block\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n*1\r\n*4\r\n$4\r\n"
    "name\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n$11\r\nconfig|help\r\n"
    "*8\r\n$7\r\nsummary\r\n$49\r\n"
    "Show helpful text about the different subcommands\r\n$5\r\nsince\r\n"
    "$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
    "$16\r\nconfig|resetstat\r\n*8\r\n$7\r\nsummary\r\n$32\r\n"
    "Reset the stats returned by INFO\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\n"
    "group\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$14\r\n"
    "config|rewrite\r\n*8\r\n$7\r\nsummary\r\n$63\r\n"
    "Rewrite the configuration file with the in memory configuration\r\n"
    "$5\r\nsince\r\n$5\r\n2.8.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n"
    "$4\r\nO(1)\r\n$10\r\nconfig|set\r\n*12\r\n$7\r\nsummary\r\n$48\r\n"
    "Set configuration parameters to the given values\r\n$5\r\nsince\r\n"
    "$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$62\r\n"
    "O(N) when N is the number of configuration parameters provided\r\n"
    "$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$57\r\n"
    "Added the ability to set multiple parameters in one call.\r\n$9\r\n"
    "arguments\r\n*1\r\n*8\r\n$4\r\nname\r\n$15\r\nparameter_value\r\n$4\r\ntype\r\n"
    "$5\r\nblock\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n$9\r\narguments\r\n*2\r\n*4\r\n$4\r\n"
    "name\r\n$9\r\nparameter\r\n$4\r\ntype\r\n$6\r\nstring\r\n*4\r\n$4\r\nname\r\n$5\r\n"
    "value\r\n$4\r\ntype\r\n$6\r\nstring\r\n";

/* COMMAND INFO blpop, RESP2 */
static const char info_blpop_resp2[] =
    "*1\r\n*10\r\n$5\r\nblpop\r\n:-3\r\n*3\r\n+write\r\n+noscript\r\n+blocking\r\n:1\r\n"
    ":-2\r\n:1\r\n*4\r\n+@write\r\n+@list\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n"
    "$5\r\nflags\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n"
    "$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\n"
    "find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n"
    ":-2\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n";

/* COMMAND DOCS blpop, RESP2 */
static const char docs_blpop_resp2[] =
    "*2\r\n$5\r\nblpop\r\n*12\r\n$7\r\nsummary\r\n$75\r\n"
    "Remove and get the first element in a list, or block until one is available\r\n"
    "$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n"
    "$44\r\nO(N) where N is the number of provided keys.\r\n$7\r\nhistory\r\n"
    "*1\r\n*2\r\n$5\r\n6.0.0\r\n$59\r\n"
    "`timeout` is interpreted as a double instead of an integer.\r\n"
    "$9\r\narguments\r\n*2\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n"
    "$14\r\nkey_spec_index\r\n:0\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n*4\r\n$4\r\n"
    "name\r\n$7\r\ntimeout\r\n$4\r\ntype\r\n$6\r\ndouble\r\n";

/* COMMAND INFO xread, RESP2 */
static const char info_xread_resp2[] =
    "*1\r\n*10\r\n$5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n"
    "+movablekeys\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@read\r\n+@stream\r\n+@slow\r\n"
    "+@blocking\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\n"
    "begin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\n"
    "keyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\n"
    "type\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n"
    ":1\r\n$5\r\nlimit\r\n:2\r\n*0\r\n";

/* COMMAND DOCS xread, RESP2 */
static const char docs_xread_resp2[] =
    "*2\r\n$5\r\nxread\r\n*10\r\n$7\r\nsummary\r\n$129\r\n"
    "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.\r\n"
    "$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$6\r\nstream\r\n$10\r\ncomplexity\r\n"
    "$272\r\n"
    "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.\r\n"
    "$9\r\narguments\r\n*3\r\n*8\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\n"
    "integer\r\n$5\r\ntoken\r\n$5\r\nCOUNT\r\n$5\r\nflags\r\n*1\r\n+optional\r\n*8\r\n"
    "$4\r\nname\r\n$12\r\nmilliseconds\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\ntoken\r\n"
    "$5\r\nBLOCK\r\n$5\r\nflags\r\n*1\r\n+optional\r\n*8\r\n$4\r\nname\r\n$7\r\nstreams\r\n"
    "$4\r\ntype\r\n$5\r\nblock\r\n$5\r\ntoken\r\n$7\r\nSTREAMS\r\n$9\r\narguments\r\n*2\r\n"
    "*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n"
    ":0\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n*6\r\n$4\r\nname\r\n$2\r\nid\r\n$4\r\ntype\r\n"
    "$6\r\nstring\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n";

/* COMMAND INFO lmpop, RESP2 */
static const char info_lmpop_resp2[] =
    "*1\r\n*10\r\n$5\r\nlmpop\r\n:-4\r\n*2\r\n+write\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n"
    "*3\r\n+@write\r\n+@list\r\n+@slow\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*3\r\n+RW\r\n"
    "+access\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n"
    "$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\n"
    "keynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\n"
    "keystep\r\n:1\r\n*0\r\n";

/* COMMAND DOCS lmpop, RESP2 */
static const char docs_lmpop_resp2[] =
    "*2\r\n$5\r\nlmpop\r\n*10\r\n$7\r\nsummary\r\n$24\r\nPop elements from a list\r\n"
    "$5\r\nsince\r\n$5\r\n7.0.0\r\n$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n"
    "$87\r\n"
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.\r\n"
    "$9\r\narguments\r\n*4\r\n*4\r\n$4\r\nname\r\n$7\r\nnumkeys\r\n$4\r\ntype\r\n$7\r\n"
    "integer\r\n*8\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\n"
    "key_spec_index\r\n:0\r\n$5\r\nflags\r\n*1\r\n+multiple\r\n*6\r\n$4\r\nname\r\n$5\r\n"
    "where\r\n$4\r\ntype\r\n$5\r\noneof\r\n$9\r\narguments\r\n*2\r\n*6\r\n$4\r\nname\r\n"
    "$4\r\nleft\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$4\r\nLEFT\r\n*6\r\n"
    "$4\r\nname\r\n$5\r\nright\r\n$4\r\ntype\r\n$10\r\npure-token\r\n$5\r\ntoken\r\n$5\r\n"
    "RIGHT\r\n*8\r\n$4\r\nname\r\n$5\r\ncount\r\n$4\r\ntype\r\n$7\r\ninteger\r\n$5\r\n"
    "token\r\n$5\r\nCOUNT\r\n$5\r\nflags\r\n*1\r\n+optional\r\n";

static const struct captured {
    const char *name;
    int proto, docs;
    const char *bytes;
    size_t len;
} captured[] = {
    { "get", 3, 0, info_get_resp3, sizeof(info_get_resp3) - 1 },
    { "get", 3, 1, docs_get_resp3, sizeof(docs_get_resp3) - 1 },
    { "set", 3, 0, info_set_resp3, sizeof(info_set_resp3) - 1 },
    { "set", 3, 1, docs_set_resp3, sizeof(docs_set_resp3) - 1 },
    { "config", 3, 0, info_config_resp3, sizeof(info_config_resp3) - 1 },
    { "config", 3, 1, docs_config_resp3, sizeof(docs_config_resp3) - 1 },
    { "blpop", 3, 0, info_blpop_resp3, sizeof(info_blpop_resp3) - 1 },
    { "blpop", 3, 1, docs_blpop_resp3, sizeof(docs_blpop_resp3) - 1 },
    { "xread", 3, 0, info_xread_resp3, sizeof(info_xread_resp3) - 1 },
    { "xread", 3, 1, docs_xread_resp3, sizeof(docs_xread_resp3) - 1 },
    { "lmpop", 3, 0, info_lmpop_resp3, sizeof(info_lmpop_resp3) - 1 },
    { "lmpop", 3, 1, docs_lmpop_resp3, sizeof(docs_lmpop_resp3) - 1 },
    { "get", 2, 0, info_get_resp2, sizeof(info_get_resp2) - 1 },
    { "get", 2, 1, docs_get_resp2, sizeof(docs_get_resp2) - 1 },
    { "set", 2, 0, info_set_resp2, sizeof(info_set_resp2) - 1 },
    { "set", 2, 1, docs_set_resp2, sizeof(docs_set_resp2) - 1 },
    { "config", 2, 0, info_config_resp2, sizeof(info_config_resp2) - 1 },
    { "config", 2, 1, docs_config_resp2, sizeof(docs_config_resp2) - 1 },
    { "blpop", 2, 0, info_blpop_resp2, sizeof(info_blpop_resp2) - 1 },
    { "blpop", 2, 1, docs_blpop_resp2, sizeof(docs_blpop_resp2) - 1 },
    { "xread", 2, 0, info_xread_resp2, sizeof(info_xread_resp2) - 1 },
    { "xread", 2, 1, docs_xread_resp2, sizeof(docs_xread_resp2) - 1 },
    { "lmpop", 2, 0, info_lmpop_resp2, sizeof(info_lmpop_resp2) - 1 },
    { "lmpop", 2, 1, docs_lmpop_resp2, sizeof(docs_lmpop_resp2) - 1 },
};
/* ---- END captured replies ------------------------------------------------- */

/* ---- a RESP byte sink behind struct render_out ------------------------- */

struct sink {
    int proto; /* 2 or 3 */
    char *buf;
    size_t len, cap;
};

static void sink_write(struct sink *k, const char *p, size_t n)
{
    if (k->len + n > k->cap) {
        size_t cap = k->cap ? k->cap : 256;
        while (cap < k->len + n)
            cap *= 2;
        k->buf = realloc(k->buf, cap);
        if (!k->buf)
            tap_bail("out of memory");
        k->cap = cap;
    }
    memcpy(k->buf + k->len, p, n);
    k->len += n;
}

static void sink_header(struct sink *k, char type, long long n)
{
    char line[32];
    int len = snprintf(line, sizeof(line), "%c%lld\r\n", type, n);
    sink_write(k, line, (size_t)len);
}

static void s_array(void *ctx, long n) { sink_header(ctx, '*', n); }

/* RESP2 has no map or set: the reply layer sends them as flat arrays. */
static void s_map(void *ctx, long n)
{
    struct sink *k = ctx;
    if (k->proto == 3)
        sink_header(k, '%', n);
    else
        sink_header(k, '*', 2 * (long long)n);
}

static void s_set(void *ctx, long n)
{
    struct sink *k = ctx;
    sink_header(k, k->proto == 3 ? '~' : '*', n);
}

static void s_bulk(void *ctx, const char *s, size_t len)
{
    sink_header(ctx, '$', (long long)len);
    sink_write(ctx, s, len);
    sink_write(ctx, "\r\n", 2);
}

static void s_status(void *ctx, const char *s)
{
    sink_write(ctx, "+", 1);
    sink_write(ctx, s, strlen(s));
    sink_write(ctx, "\r\n", 2);
}

static void s_integer(void *ctx, long long v) { sink_header(ctx, ':', v); }

static struct render_out sink_out(struct sink *k, int proto)
{
    k->proto = proto;
    k->len = 0;
    return (struct render_out){k, s_array, s_map, s_set, s_bulk, s_status, s_integer};
}

/* ---- helpers ----------------------------------------------------------- */

/* Find "name" or "parent|sub"; *parent is set for a subcommand. */
static const struct command_spec *find(const char *name, const struct command_spec **parent)
{
    const char *bar = strchr(name, '|');
    size_t len = bar ? (size_t)(bar - name) : strlen(name);
    *parent = NULL;
    for (const struct command_spec *s = command_specs; s->name; s++) {
        if (strlen(s->name) != len || strncmp(s->name, name, len) != 0)
            continue;
        if (!bar)
            return s;
        for (const struct command_spec *sub = s->subcommands; sub && sub->name; sub++)
            if (strcmp(sub->name, bar + 1) == 0) {
                *parent = s;
                return sub;
            }
    }
    return NULL;
}

/* On a mismatch, show where: whole replies are too long to eyeball. */
static void diag_diff(const char *got, size_t glen, const char *want, size_t wlen)
{
    size_t i = 0;
    while (i < glen && i < wlen && got[i] == want[i])
        i++;
    size_t from = i > 40 ? i - 40 : 0;
    char g[256], w[256];
    size_t gn = 0, wn = 0;
    for (size_t j = from; j < from + 100 && j < glen && gn < sizeof(g) - 5; j++)
        gn += (size_t)snprintf(g + gn, sizeof(g) - gn, got[j] == '\r' ? "\\r" : got[j] == '\n' ? "\\n" : "%c", got[j]);
    for (size_t j = from; j < from + 100 && j < wlen && wn < sizeof(w) - 5; j++)
        wn += (size_t)snprintf(w + wn, sizeof(w) - wn, want[j] == '\r' ? "\\r" : want[j] == '\n' ? "\\n" : "%c", want[j]);
    tap_diag("first difference at byte %zu (got %zu bytes, expected %zu)", i, glen, wlen);
    tap_diag("  got:      ...%s", g);
    tap_diag("  expected: ...%s", w);
}

/* ok() on the rendered bytes; the diff follows the "not ok" line. */
#define is_bytes(k, want, wlen, ...)                                            \
    do {                                                                        \
        int same_ = (k)->len == (wlen) && memcmp((k)->buf, (want), (wlen)) == 0; \
        if (!ok(same_, __VA_ARGS__))                                            \
            diag_diff((k)->buf, (k)->len, (want), (wlen));                      \
    } while (0)

/* Consume one RESP2/RESP3 value of the kinds the renderer emits; returns
 * the position after it, or NULL when malformed or truncated. */
static const char *resp_skip(const char *p, const char *end, int depth)
{
    if (p >= end || depth > 32)
        return NULL;
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    if (!eol || eol + 1 >= end || eol[1] != '\n')
        return NULL;
    char type = *p;
    long long n = strtoll(p + 1, NULL, 10);
    const char *next = eol + 2;
    switch (type) {
    case '+':
    case ':':
        return next;
    case '$':
        if (n < 0 || end - next < n + 2 || next[n] != '\r' || next[n + 1] != '\n')
            return NULL;
        return next + n + 2;
    case '%':
        n *= 2;
        /* fall through */
    case '*':
    case '~':
        for (long long i = 0; i < n && next; i++)
            next = resp_skip(next, end, depth + 1);
        return next;
    default:
        return NULL;
    }
}

static int well_formed(const struct sink *k)
{
    return resp_skip(k->buf, k->buf + k->len, 0) == k->buf + k->len;
}

/* ---- tests ------------------------------------------------------------- */

/* The captured replies, rendered the way the server answers
 * COMMAND INFO x / COMMAND DOCS x: outer array / map of one, then the entry. */
static void test_captured(struct sink *k)
{
    for (size_t i = 0; i < sizeof(captured) / sizeof(captured[0]); i++) {
        const struct captured *c = &captured[i];
        const struct command_spec *parent, *spec = find(c->name, &parent);
        if (!spec) {
            ok(0, "%s is in the table", c->name);
            continue;
        }
        struct render_out out = sink_out(k, c->proto);
        if (c->docs) {
            out.map(out.ctx, 1);
            render_command_docs(&out, spec, parent, NULL);
        } else {
            out.array(out.ctx, 1);
            render_command_info(&out, spec, parent, NULL);
        }
        is_bytes(k, c->bytes, c->len, "COMMAND %s %s, RESP%d: same bytes as redis-server",
                 c->docs ? "DOCS" : "INFO", c->name, c->proto);
    }
}

/* A subcommand on its own (COMMAND INFO config|get) is the very entry that
 * CONFIG's reply nests, so it must appear verbatim inside it. */
static void test_subcommand_alone(struct sink *k)
{
    static const char *const subs[] = {"config|get", "config|help", "config|resetstat",
                                       "config|rewrite", "config|set"};
    for (int proto = 2; proto <= 3; proto++) {
        const char *whole = proto == 3 ? info_config_resp3 : info_config_resp2;
        const char *whole_docs = proto == 3 ? docs_config_resp3 : docs_config_resp2;
        int found = 0, found_docs = 0;
        for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
            const struct command_spec *parent, *spec = find(subs[i], &parent);
            if (!spec || !parent)
                continue;
            struct render_out out = sink_out(k, proto);
            render_command_info(&out, spec, parent, NULL);
            sink_write(k, "", 1); /* NUL-terminate for strstr */
            found += strstr(whole, k->buf) != NULL;
            out = sink_out(k, proto);
            render_command_docs(&out, spec, parent, NULL);
            sink_write(k, "", 1);
            found_docs += strstr(whole_docs, k->buf) != NULL;
        }
        is_int(found, 5, "RESP%d: COMMAND INFO config|<sub> entries are CONFIG's nested entries", proto);
        is_int(found_docs, 5, "RESP%d: COMMAND DOCS config|<sub> pairs are CONFIG's nested pairs", proto);
    }
}

/* Every spec of the table renders to one well-formed reply, and with no
 * filter the rebuilt docs equal the stored tree. */
static void test_whole_table(struct sink *k)
{
    int bad_info = 0, bad_docs = 0, differ = 0, total = 0;
    struct sink stored = {0};
    for (const struct command_spec *top = command_specs; top->name; top++) {
        const struct command_spec *parent = NULL, *spec = top;
        const struct command_spec *next_sub = top->subcommands;
        for (;;) {
            for (int proto = 2; proto <= 3; proto++) {
                struct render_out out = sink_out(k, proto);
                render_command_info(&out, spec, parent, NULL);
                if (!well_formed(k)) {
                    char name[128];
                    render_fullname(name, sizeof(name), spec, parent);
                    tap_diag("COMMAND INFO %s: malformed", name);
                    bad_info++;
                }
                /* a name -> docs pair, so it is only a value inside a map */
                char name[128];
                size_t nlen = render_fullname(name, sizeof(name), spec, parent);
                out = sink_out(k, proto);
                out.map(out.ctx, 1);
                render_command_docs(&out, spec, parent, NULL);
                if (!well_formed(k)) {
                    tap_diag("COMMAND DOCS %s: malformed", name);
                    bad_docs++;
                }
                /* same bytes as name + the stored tree */
                struct render_out so = sink_out(&stored, proto);
                so.map(so.ctx, 1);
                so.bulk(so.ctx, name, nlen);
                render_doc_node(&so, spec->docs);
                if (stored.len != k->len || memcmp(stored.buf, k->buf, k->len) != 0) {
                    tap_diag("COMMAND DOCS %s: differs from the stored tree", name);
                    differ++;
                }
            }
            total++;
            if (!next_sub || !next_sub->name)
                break;
            parent = top;
            spec = next_sub++;
        }
    }
    free(stored.buf);
    ok(bad_info == 0, "COMMAND INFO of all %d specs is well-formed RESP2 and RESP3", total);
    ok(bad_docs == 0, "COMMAND DOCS of all %d specs is well-formed RESP2 and RESP3", total);
    ok(differ == 0, "unfiltered COMMAND DOCS equals the stored docs tree");
}

static int hide_help_and_resetstat(void *ctx, const struct command_spec *parent,
                                   const struct command_spec *sub)
{
    (void)parent;
    ++*(int *)ctx;
    return strcmp(sub->name, "help") != 0 && strcmp(sub->name, "resetstat") != 0;
}

static int hide_all(void *ctx, const struct command_spec *parent, const struct command_spec *sub)
{
    (void)ctx, (void)parent, (void)sub;
    return 0;
}

static int contains(const struct sink *k, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= k->len; i++)
        if (memcmp(k->buf + i, needle, n) == 0)
            return 1;
    return 0;
}

/* Subcommands without a handler are not shown, in INFO and in DOCS. */
static void test_filter(struct sink *k)
{
    const struct command_spec *parent, *config = find("config", &parent);
    int calls = 0;
    struct render_filter f = {hide_help_and_resetstat, &calls};
    struct render_out out = sink_out(k, 3);
    render_command_info(&out, config, NULL, &f);
    ok(well_formed(k) && contains(k, "~0\r\n*3\r\n*10\r\n$10\r\nconfig|get\r\n") &&
           !contains(k, "config|help") && !contains(k, "config|resetstat") &&
           contains(k, "config|rewrite") && contains(k, "config|set"),
       "filtered COMMAND INFO config lists get, rewrite, set");
    ok(calls > 0, "the filter callback gets its context");

    out = sink_out(k, 3);
    out.map(out.ctx, 1);
    render_command_docs(&out, config, NULL, &f);
    ok(well_formed(k) && contains(k, "$11\r\nsubcommands\r\n%3\r\n$10\r\nconfig|get\r\n") &&
           !contains(k, "config|help") && !contains(k, "config|resetstat"),
       "filtered COMMAND DOCS config lists get, rewrite, set");

    out = sink_out(k, 2);
    out.map(out.ctx, 1);
    render_command_docs(&out, config, NULL, &f);
    ok(well_formed(k) && contains(k, "$11\r\nsubcommands\r\n*6\r\n$10\r\nconfig|get\r\n"),
       "filtered COMMAND DOCS config in RESP2 has a flat array of 3 pairs");

    /* Redis sends an empty set when there are no subcommands at all. */
    struct render_filter none = {hide_all, NULL};
    out = sink_out(k, 3);
    render_command_info(&out, config, NULL, &none);
    ok(well_formed(k) && k->len > 4 && memcmp(k->buf + k->len - 4, "~0\r\n", 4) == 0,
       "all subcommands hidden: an empty set, like a plain command");

    struct render_filter null_fn = {NULL, NULL};
    out = sink_out(k, 3);
    out.array(out.ctx, 1);
    render_command_info(&out, config, NULL, &null_fn);
    is_bytes(k, info_config_resp3, sizeof(info_config_resp3) - 1,
             "a filter without a callback shows everything");
}

static void test_fullname(void)
{
    const struct command_spec *parent, *get = find("config|get", &parent);
    char buf[8];
    if (!ok(get && parent, "config|get found"))
        return;
    is_int(render_fullname(buf, sizeof(buf), get, parent), 10, "fullname length is reported");
    is_str(buf, "config|", "fullname is truncated to the buffer, NUL-terminated");
    char big[32];
    render_fullname(big, sizeof(big), get, parent);
    is_str(big, "config|get", "subcommand full name is parent|name");
    render_fullname(big, sizeof(big), parent, NULL);
    is_str(big, "config", "command full name is its name");
}

int main(void)
{
    struct sink k = {0};
    test_captured(&k);
    test_subcommand_alone(&k);
    test_whole_table(&k);
    test_filter(&k);
    test_fullname();
    free(k.buf);
    return tap_done();
}
