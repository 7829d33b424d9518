/* command_render.h - COMMAND INFO / COMMAND DOCS replies from the spec table.
 *
 * The functions here are pure: they walk a struct command_spec (see
 * commands.h) and describe the reply Redis 7.0 gives for it, value by value,
 * through a caller-supplied struct render_out.  They know nothing about
 * clients or protocol versions, so the unit tests can render into a byte
 * buffer and compare with what redis-server really sends, and the server
 * can bind the same calls to its reply layer.
 */
#ifndef SLUICE_COMMAND_RENDER_H
#define SLUICE_COMMAND_RENDER_H

#include <stddef.h>

#include "commands.h"

/* Where rendered values go.  The protocol version is the callee's business:
 * a RESP2 binding writes a map of n pairs as an array of 2n and a set as an
 * array.  Lengths are announced before the elements, as in RESP. */
struct render_out {
    void *ctx;
    void (*array)(void *ctx, long n);
    void (*map)(void *ctx, long n);  /* n key/value pairs follow */
    void (*set)(void *ctx, long n);
    void (*bulk)(void *ctx, const char *s, size_t len);
    void (*status)(void *ctx, const char *s);
    void (*integer)(void *ctx, long long v);
};

/* Decides which subcommands of a container are shown (Sluice only shows
 * the ones that have a handler).  Pass a NULL filter to show them all. */
struct render_filter {
    int (*visible)(void *ctx, const struct command_spec *parent,
                   const struct command_spec *sub);
    void *ctx;
};

/* The full name as Redis prints it: "get", or "config|get" for a subcommand
 * (parent != NULL).  Writes at most size bytes including the terminating
 * NUL and returns the length the full name has (snprintf-like). */
size_t render_fullname(char *buf, size_t size, const struct command_spec *spec,
                       const struct command_spec *parent);

/* One COMMAND INFO entry (the array of 10; the caller writes the outer
 * array around the entries).  parent is NULL for a top-level command. */
void render_command_info(const struct render_out *out, const struct command_spec *spec,
                         const struct command_spec *parent, const struct render_filter *filter);

/* One name -> docs pair of the COMMAND DOCS map (the caller writes the map
 * header).  A container's "subcommands" field is rebuilt from
 * spec->subcommands so that the filter applies to it. */
void render_command_docs(const struct render_out *out, const struct command_spec *spec,
                         const struct command_spec *parent, const struct render_filter *filter);

/* A stored reply tree, as stored. */
void render_doc_node(const struct render_out *out, const struct doc_node *node);

#endif
