/* SPDX-License-Identifier: MIT */
/*
 * cli.h - the command line: main()'s table of commands, the scanner of
 * their arguments, and one function per command (cmd_*.c). Exports:
 * cli_*, cmd_*.
 */
#ifndef S3ROOT_CLI_H
#define S3ROOT_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "src/s3/s3.h"

/* ---- scanning a command's arguments (args.c) ---- */

#define CLI_ONCE 1 /* has_arg: takes a value, given at most once */
#define CLI_MANY 2 /* has_arg: takes a value, may repeat (-o, -H) */

struct cli_opt {
	const char *name; /* "-H", "--method" */
	int has_arg;	  /* 0 (a flag), CLI_ONCE or CLI_MANY */
	int id;		  /* 1 to 63 */
};

/* A command's options: a table (which several commands may share) and
 * which of its ids this command takes. */
struct cli_spec {
	const struct cli_opt *opts; /* ended by a NULL name */
	uint64_t allowed;	    /* bit id: taken here; 0: every one */
	void (*usage)(FILE *f);	    /* for -h and --help */
};
#define CLI_BIT(id) (1ULL << (id))

/*
 * Scans one command's arguments, argv[1..argc) (argv[0] is its name, in
 * messages). -h and --help print spec->usage to stdout. Each argument goes
 * to fn(ctx, id, arg): id 0 for a positional argument, else the option's
 * id, with its value (NULL for a flag). fn returns 0, or -1 after logging
 * why. Options and positional arguments may come in any order; "--" ends
 * the options; "--name=value" and "-oVALUE" work; an unknown option, one
 * this command does not take, a CLI_ONCE option given twice or a missing
 * value is an error. Returns 0, 1 when help was printed, or -1 (logged).
 */
typedef int (*cli_arg_fn)(void *ctx, int id, const char *arg);
int cli_scan(int argc, char **argv, const struct cli_spec *spec, cli_arg_fn fn,
	     void *ctx);

/*
 * What every object command takes, for its cli_arg_fn: SOURCE (id 0, once)
 * and -o (id CLI_OPT, parsed into o). cmd names the command in messages.
 * Returns 1 when it took the argument, 0 when it is the caller's, -1
 * after logging an error.
 */
#define CLI_OPT 1
int cli_object_arg(const char *cmd, int id, const char *arg,
		   const char **source, struct opts *o);
/*
 * The signing commands' --method (GET or HEAD; *method points into arg)
 * and --time (YYYYMMDDTHHMMSSZ, into *t as epoch seconds). Return 0, or -1
 * after logging an error that names cmd.
 */
int cli_method_arg(const char *cmd, const char *arg, const char **method);
int cli_time_arg(const char *cmd, const char *arg, int64_t *t);

/* ---- a command that reads one object (object.c) ---- */

/* The options of stat and get: each command's spec allows its own, so
 * that each refuses the other's by name. */
enum { CLI_OBJ_JSON = CLI_OPT + 1, CLI_OBJ_RANGE, CLI_OBJ_OUTPUT };
extern const struct cli_opt cli_object_opts[];

struct cli_object {
	struct opts o;
	const char *source;
	struct object *ob;
};

/*
 * Scans a command's arguments with cli_scan: SOURCE and -o (CLI_OPT, which
 * spec must allow) are taken, the rest go to fn (may be NULL). Then the
 * object: config file, environment, credentials, s3.io_timeout 120 s
 * unless set, object_open. Returns 0 with co->ob open, 1 after --help, or
 * -1 (logged); co is to be closed with cli_close_object after a 0.
 */
int cli_open_object(int argc, char **argv, char **envp,
		    const struct cli_spec *spec, cli_arg_fn fn, void *ctx,
		    struct cli_object *co);
void cli_close_object(struct cli_object *co);

/* ---- commands: (argc, argv) from the command's name on; exit status ---- */

int cmd_sign(int argc, char **argv, char **envp);
int cmd_presign(int argc, char **argv, char **envp);
int cmd_stat(int argc, char **argv, char **envp);
int cmd_get(int argc, char **argv, char **envp);
int cmd_serve(int argc, char **argv, char **envp);
int cmd_attach(int argc, char **argv, char **envp);
int cmd_detach(int argc, char **argv, char **envp);
int cmd_mount(int argc, char **argv, char **envp);
int cmd_list(int argc, char **argv, char **envp);
int cmd_init(int argc, char **argv, char **envp);
int cmd_mountroot(int argc, char **argv, char **envp);
int cmd_verity_format(int argc, char **argv, char **envp);
int cmd_trace(int argc, char **argv, char **envp);

#endif
