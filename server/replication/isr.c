/* isr.c - the in-sync replica set and `acks` (the commit gate's replica
 * condition).  Skeleton: to be written. */
#include "repl_int.h"

void repl_isr_note_stream(commit_pos pos, long long end)
{
    (void)pos;
    (void)end;
}
void repl_isr_on_ack(uint64_t client_id, long long offset)
{
    (void)client_id;
    (void)offset;
}
void repl_isr_on_replica_gone(uint64_t client_id) { (void)client_id; }
void repl_isr_register(void) {}
