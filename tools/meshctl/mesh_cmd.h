/* meshctl keygen, coord and ping: the operator's side of PROTOCOLS.md
 * sections 3 (the coordinator) and 4 (a peer's /ping). */
#ifndef MESHCTL_MESH_CMD_H
#define MESHCTL_MESH_CMD_H

/* argv[0] is the first argument after the command name; the exit status. */
int meshctl_keygen(int argc, char **argv);
int meshctl_coord(int argc, char **argv);
int meshctl_ping(int argc, char **argv);

#endif
