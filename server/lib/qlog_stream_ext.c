/* qlog_stream_ext.c - see qlog_stream_ext.h.  Only qlog.h's public API is
 * used, so the queue log's internals stay its own. */
#include "qlog_stream_ext.h"

#include <assert.h>

int qlog_seg_at(qlog *log, size_t pos, qlog_seginfo *si)
{
    qlog_iter it;
    qlog_value v;
    if (pos >= qlog_length(log))
        return 0;
    qlog_iter_init(&it, log, (long long)pos, QLOG_FORWARD);
    if (!qlog_iter_next(&it, &v))
        return 0;
    qlog_iter_seginfo(&it, si);
    return 1;
}

size_t qlog_seg_pos(qlog *log, qlog_key key)
{
    qlog_iter it;
    qlog_value v;
    qlog_seginfo si;
    /* init_key starts forward iteration at the first entry of the last
     * segment whose key is <= key */
    qlog_iter_init_key(&it, log, key, QLOG_FORWARD);
    if (!qlog_iter_next(&it, &v))
        return (size_t)-1;
    qlog_iter_seginfo(&it, &si);
    if (si.key.ms != key.ms || si.key.seq != key.seq)
        return (size_t)-1;
    return qlog_iter_pos(&it);
}

void qlog_seg_set_aux(qlog *log, size_t pos, const void *aux, size_t auxlen)
{
    qlog_iter it;
    qlog_value v;
    qlog_iter_init(&it, log, (long long)pos, QLOG_FORWARD);
    int more = qlog_iter_next(&it, &v);
    assert(more);
    (void)more;
    qlog_iter_set_aux(&it, aux, auxlen);
}
