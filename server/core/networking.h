/* networking.h - listeners and connection plumbing (see networking.c). */
#ifndef SLUICE_NETWORKING_H
#define SLUICE_NETWORKING_H

#include "sstr.h"

struct client;

/* (Re)open the listening sockets from srv.port/bind/unixsocket; on failure
 * the old listeners stay and *err says why. */
int listen_on_configured_addresses_err(sstr *err);
void client_command_done(struct client *c);

#endif
