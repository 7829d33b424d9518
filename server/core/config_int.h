/* config_int.h - what config.c (the directive table, defaults, loading)
 * and cmd_config.c (CONFIG GET/SET/REWRITE) share: the descriptor of a
 * directive and the table's generic get/set.  Other modules use config.h.
 */
#ifndef SLUICE_CONFIG_INT_H
#define SLUICE_CONFIG_INT_H

#include "config.h"
#include "sstr.h"

enum { T_BOOL, T_NUM, T_ENUM, T_STR, T_SPECIAL };

/* Flags of a directive (struct cfg.flags). */
#define F_IMMUTABLE (1u << 0)  /* CONFIG SET refuses it */
#define F_PROTECTED (1u << 1)  /* CONFIG SET only if enable-protected-configs allows */
#define F_DENY_LOAD (1u << 2)  /* CONFIG SET refused while loading the dataset */
#define F_MULTI_ARG (1u << 3)  /* several words; CONFIG SET splits its value on spaces */
#define F_MEMORY (1u << 4)     /* 1k=1000, 1kb=1024, m/mb, g/gb, b; any case */
#define F_PERCENT (1u << 5)    /* also "N%", stored as -N */
#define F_OCTAL (1u << 6)
#define F_UNSIGNED (1u << 7)   /* full 64-bit unsigned range (maxmemory) */
#define F_LL (1u << 8)         /* T_NUM storage is long long, else int */
#define F_EMPTY_NULL (1u << 9) /* T_STR: "" is stored as NULL */
#define F_HIDDEN (1u << 10)    /* a test knob: CONFIG GET patterns skip it, its exact name finds it */

struct cfg;
struct rw_state;
typedef int validate_fn(const char *s, long long v, const char **err);
typedef int apply_fn(const char **err);

struct enum_val {
    const char *name;
    int val;
};

/* How the generic CONFIG REWRITE of a special writes "name <get()>". */
#define RW_QUOTE 1         /* value quoted (dir, notify-keyspace-events) */
#define RW_ALWAYS 2        /* written even when it is the default */
#define RW_UNSET_EMPTY 4   /* an empty value is written as no line at all */

struct special_ops {
    int (*set)(char **argv, int argc, const char **err); /* 0 error, 1 changed, 2 unchanged */
    sstr (*get)(void);
    void (*rewrite)(struct rw_state *st, const struct cfg *c); /* NULL: generic, see RW_* */
    const char *def; /* default, applied through set() by config_init_defaults */
    int rw;
};

struct cfg {
    const char *name, *alias;
    unsigned char type;
    unsigned flags;
    void *ptr;               /* int *, long long *, char ** (NULL for T_SPECIAL) */
    long long min, max, def; /* T_NUM bounds; default of T_BOOL/T_NUM/T_ENUM */
    const void *aux;         /* T_STR default string, T_ENUM table, T_SPECIAL ops */
    validate_fn *valid;
    apply_fn *apply;         /* after a CONFIG SET that changed the value */
};

#define MB (1024LL * 1024)

/* client-output-buffer-limit defaults: normal, replica, pubsub x
 * hard, soft, soft seconds (config.c). */
extern const long long cfg_obuf_defaults[3][3];

/* The directive table (config.c). */
extern const struct cfg cfg_table[];
extern const int cfg_count;

/* Index of a directive by name or alias: (index << 1) | is_alias, or -1. */
int cfg_lookup(const char *name, size_t len);
/* The name a lookup() code stands for (the alias when it was one). */
const char *cfg_entry_name(int code);
/* The value as CONFIG GET shows it. */
sstr cfg_get(const struct cfg *c);
/* Set from one string as CONFIG SET gives it: 1 ok, 0 error (*err). */
int cfg_set_from_string(const struct cfg *c, const char *value, const char **err);
long long cfg_num_load(const struct cfg *c);
int cfg_is_trim_char(char c);
/* Whole file into *out: 0, or -1 with errno. */
int cfg_read_file(const char *path, sstr *out);

/* CONFIG REWRITE of the specials whose lines are not "name value"
 * (cmd_config.c). */
void cfg_save_rewrite(struct rw_state *st, const struct cfg *c);
void cfg_cobl_rewrite(struct rw_state *st, const struct cfg *c);

#endif
