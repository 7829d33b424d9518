/* hooks.c - registration and running of the core's hook lists; see hooks.h.
 *
 * Each list is a small fixed array: hooks are registered once at startup
 * by a handful of modules, so an overflow is a programming error
 * (asserted), never a runtime condition.
 */
#include "hooks.h"

#include <assert.h>
#include <string.h>

#define MAX_HOOKS 8

static hook_fn *cron_hooks[MAX_HOOKS];
static int ncron;
static hook_fn *top_level_hooks[MAX_HOOKS];
static int ntop_level;
static hook_fn *after_commit_hooks[MAX_HOOKS];
static int nafter_commit;
static shutdown_hook_fn *shutdown_hooks[MAX_HOOKS];
static int nshutdown;
static struct {
    int order;
    write_refusal_fn *fn;
} refusal_hooks[MAX_HOOKS];
static int nrefusal;
static flush_hook_fn *flush_hooks[MAX_HOOKS];
static int nflush;

struct info_part {
    const char *section;
    int order;
    info_hook_fn *fn;
};
static struct info_part info_parts[4 * MAX_HOOKS];
static int ninfo;

void hooks_on_cron(hook_fn *fn)
{
    assert(ncron < MAX_HOOKS);
    cron_hooks[ncron++] = fn;
}

void hooks_run_cron(void)
{
    for (int i = 0; i < ncron; i++)
        cron_hooks[i]();
}

void hooks_on_top_level(hook_fn *fn)
{
    assert(ntop_level < MAX_HOOKS);
    top_level_hooks[ntop_level++] = fn;
}

void hooks_run_top_level(void)
{
    for (int i = 0; i < ntop_level; i++)
        top_level_hooks[i]();
}

void hooks_on_after_commit(hook_fn *fn)
{
    assert(nafter_commit < MAX_HOOKS);
    after_commit_hooks[nafter_commit++] = fn;
}

void hooks_run_after_commit(void)
{
    for (int i = 0; i < nafter_commit; i++)
        after_commit_hooks[i]();
}

void hooks_on_shutdown(shutdown_hook_fn *fn)
{
    assert(nshutdown < MAX_HOOKS);
    shutdown_hooks[nshutdown++] = fn;
}

int hooks_run_shutdown(int shutdown_flags)
{
    for (int i = 0; i < nshutdown; i++)
        if (shutdown_hooks[i](shutdown_flags) < 0)
            return -1;
    return 0;
}

void hooks_on_write_refusal(int order, write_refusal_fn *fn)
{
    assert(nrefusal < MAX_HOOKS && nrefusal < 32);
    assert(hooks_refusals_armed_ == 0); /* bits follow the sorted slots: register before arming */
    int at = nrefusal;
    while (at > 0 && refusal_hooks[at - 1].order > order) {
        refusal_hooks[at] = refusal_hooks[at - 1];
        at--;
    }
    refusal_hooks[at].order = order;
    refusal_hooks[at].fn = fn;
    nrefusal++;
}

unsigned hooks_refusals_armed_;
int hooks_refusal_is_ping_;

void hooks_arm_write_refusal(write_refusal_fn *fn, int armed)
{
    for (int i = 0; i < nrefusal; i++) {
        if (refusal_hooks[i].fn != fn)
            continue;
        if (armed)
            hooks_refusals_armed_ |= 1u << i;
        else
            hooks_refusals_armed_ &= ~(1u << i);
        return;
    }
    /* not registered (a unit test linking the module alone): nothing asks it */
}

int hooks_write_refused(sstr *msg)
{
    for (int i = 0; i < nrefusal; i++)
        if (refusal_hooks[i].fn(msg))
            return 1;
    return 0;
}

void hooks_on_flush(flush_hook_fn *fn)
{
    assert(nflush < MAX_HOOKS);
    flush_hooks[nflush++] = fn;
}

void hooks_run_flush(int dbid)
{
    for (int i = 0; i < nflush; i++)
        flush_hooks[i](dbid);
}

static client_hook_fn *link_free_hooks[MAX_HOOKS];
static int nlink_free;

void hooks_on_link_free(client_hook_fn *fn)
{
    assert(nlink_free < MAX_HOOKS);
    link_free_hooks[nlink_free++] = fn;
}

static stale_refusal_fn *stale_hook;
stale_refusal_fn *hooks_stale_refusal_;

void hooks_on_stale_refusal(stale_refusal_fn *fn)
{
    assert(stale_hook == NULL);
    stale_hook = fn;
}

void hooks_arm_stale_refusal(int armed) { hooks_stale_refusal_ = armed ? stale_hook : NULL; }

static link_input_fn *master_applied_hook;

void hooks_on_master_applied(link_input_fn *fn)
{
    assert(master_applied_hook == NULL);
    master_applied_hook = fn;
}

void hooks_run_master_applied(struct client *c, const char *p, size_t n)
{
    if (master_applied_hook)
        master_applied_hook(c, p, n);
}

void hooks_run_link_free(struct client *c)
{
    for (int i = 0; i < nlink_free; i++)
        link_free_hooks[i](c);
}

void hooks_on_info(const char *section, int order, info_hook_fn *fn)
{
    assert(ninfo < (int)(sizeof(info_parts) / sizeof(info_parts[0])));
    /* insertion sort by order, stable: the list stays sorted */
    int at = ninfo;
    while (at > 0 && info_parts[at - 1].order > order)
        at--;
    memmove(info_parts + at + 1, info_parts + at, sizeof(info_parts[0]) * (size_t)(ninfo - at));
    info_parts[at] = (struct info_part){section, order, fn};
    ninfo++;
}

void hooks_run_info(const char *section, sstr *out)
{
    for (int i = 0; i < ninfo; i++)
        if (strcmp(info_parts[i].section, section) == 0)
            info_parts[i].fn(out);
}
