/* meshctl config push|status (PROTOCOLS.md section 2). */
#ifndef MESHCTL_CONFIG_CMD_H
#define MESHCTL_CONFIG_CMD_H

/* argv[0] is "push" or "status"; the exit status. */
int meshctl_config(int argc, char **argv);

#endif
