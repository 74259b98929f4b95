#ifndef ROSTER_SECRET_H
#define ROSTER_SECRET_H

/* Secrets in memory: taken once, wiped when done, never in a core dump.
 * (The encrypted credentials store builds on this.) */

/* No core dumps and no ptrace by other users of this process: a crash must
 * not write the secrets it holds to disk. */
void secret_protect_process(void);

/* Takes the secret held in environment variable var: returns a copy
 * (NULL when unset or empty), wipes the variable's bytes and removes it, so
 * children and /proc/PID/environ no longer show it. Free with secret_free. */
char *secret_take_env(const char *var);

/* Wipes and frees a secret from secret_take_env (NULL is fine). */
void secret_free(char *s);

#endif
