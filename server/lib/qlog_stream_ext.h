/* qlog_stream_ext.h - segment-level access to keyed queue logs (streams).
 *
 * Streams think in segments (Redis's radix-tree nodes): trimming drops
 * whole ones, XINFO counts them, and a deletion that empties one removes
 * it.  qlog.h exposes segments only through an iterator's current entry;
 * these helpers, written on qlog.h's public API alone, address a segment
 * by the position of its first entry, which is all the stream code needs.
 * Each is O(log n).
 */
#ifndef SLUICE_QLOG_STREAM_EXT_H
#define SLUICE_QLOG_STREAM_EXT_H

#include <stddef.h>

#include "qlog.h"

/* The segment whose first entry is at position pos: fills si (aux valid
 * until the log changes).  Returns 0 when pos is past the end.  Walking
 * all segments: pos = 0, then pos += si.count. */
int qlog_seg_at(qlog *log, size_t pos, qlog_seginfo *si);
/* Position of the first entry of the segment with exactly this key, or
 * (size_t)-1 when no segment has it. */
size_t qlog_seg_pos(qlog *log, qlog_key key);
/* Replaces the aux blob of the segment whose first entry is at pos. */
void qlog_seg_set_aux(qlog *log, size_t pos, const void *aux, size_t auxlen);

#endif
