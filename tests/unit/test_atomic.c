/* Atomic publishing: commit replaces, abort keeps the previous file, no
 * temporary file is left behind, failures name the file. */
#include "core/atomic.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static char *at(const char *name)
{
	static char p[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static int is(const char *path, const char *want)
{
	char *got = tap_slurp(path, NULL);
	int ok = got && !strcmp(got, want);
	free(got);
	return ok;
}

/* Entries of the folder whose name starts with '.', other than . and .. */
static int hidden(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += de->d_name[0] == '.' && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static void put(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	fputs(s, f);
	fclose(f);
}

int main(void)
{
	struct atomic_file a;
	struct rt_err e;
	struct stat st;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/test_atomic.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return tap_done();
	}
	mode_t mask = umask(022);
	err_clear(&e);

	TAP_EQ_INT(atomic_publish(at("new.csv"), "one\n", 4, 0, &e), 0, "publish a new file");
	tap_ok(is(at("new.csv"), "one\n"), "it holds the data");
	tap_ok(stat(at("new.csv"), &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644 by default");
	TAP_EQ_INT(hidden(), 0, "no temporary file left");

	put(at("t.csv"), "old\n");
	TAP_EQ_INT(atomic_open(&a, at("t.csv"), 0, &e), 0, "open over an existing file");
	tap_ok(a.tmp && strstr(a.tmp, "/.t.csv.tmp."), "the temporary file is .NAME.tmp.* beside it");
	TAP_EQ_INT(atomic_write(&a, "new\n", 4, &e), 0, "write");
	tap_ok(is(at("t.csv"), "old\n"), "before commit the previous file is whole");
	TAP_EQ_INT(hidden(), 1, "while writing, one temporary file exists");
	TAP_EQ_INT(atomic_commit(&a, &e), 0, "commit");
	tap_ok(is(at("t.csv"), "new\n"), "commit replaces the file");
	TAP_EQ_INT(hidden(), 0, "no temporary file after commit");

	TAP_EQ_INT(atomic_open(&a, at("t.csv"), 0, &e), 0, "open again");
	atomic_write(&a, "half", 4, &e);
	atomic_abort(&a);
	tap_ok(is(at("t.csv"), "new\n"), "abort leaves the previous file");
	TAP_EQ_INT(hidden(), 0, "no temporary file after abort");

	TAP_EQ_INT(atomic_open(&a, at("s.txt"), 0600, &e), 0, "open with mode 0600");
	FILE *f = atomic_fp(&a, &e);
	tap_ok(f && fprintf(f, "via %s\n", "stdio") > 0, "write through the FILE*");
	TAP_EQ_INT(atomic_commit(&a, &e), 0, "commit flushes the FILE*");
	tap_ok(is(at("s.txt"), "via stdio\n"), "stdio data arrived");
	tap_ok(stat(at("s.txt"), &st) == 0 && (st.st_mode & 0777) == 0600, "mode as asked");

	err_clear(&e);
	TAP_EQ_INT(atomic_publish(at("missing/x.csv"), "x", 1, 0, &e), -1,
		   "a missing folder fails");
	tap_ok(e.kind == ERR_IO && strstr(e.msg, "missing/x.csv") &&
		       strstr(e.msg, "No such file or directory"),
	       "the error names the file and the system's reason");

	/* atomic_copy: a file bigger than one block, over an older one */
	{
		FILE *f = fopen(at("big.src"), "w");
		for (int i = 0; f && i < 20000; i++)
			fprintf(f, "row %05d\n", i);
		if (f)
			fclose(f);
		put(at("big.dst"), "old\n");
		err_clear(&e);
		TAP_EQ_INT(atomic_copy(at("big.src"), at("big.dst"), 0, &e), 0, "atomic_copy copies");
		struct stat a, b;
		tap_ok(!stat(at("big.src"), &a) && !stat(at("big.dst"), &b) && a.st_size == b.st_size &&
			       a.st_size == 200000 && (b.st_mode & 0777) == 0644,
		       "the copy has every byte (200000, in several blocks), mode 0644");
		err_clear(&e);
		TAP_EQ_INT(atomic_copy(at("none.src"), at("big.dst"), 0, &e), -1,
			   "a missing source fails");
		tap_ok(e.kind == ERR_IO && strstr(e.msg, "none.src") && !stat(at("big.dst"), &b) &&
			       b.st_size == 200000,
		       "the error names the source; the target stays");
	}

	/* rename(2) of a file over a folder fails: the commit must clean up */
	mkdir(at("busy"), 0755);
	put(at("busy/keep"), "k");
	err_clear(&e);
	TAP_EQ_INT(atomic_publish(at("busy"), "x", 1, 0, &e), -1, "a failed rename fails the commit");
	tap_ok(strstr(e.msg, "rename") != NULL, "the error names the step");
	tap_ok(is(at("busy/keep"), "k"), "the target is untouched");
	TAP_EQ_INT(hidden(), 0, "no temporary file after a failed commit");

	TAP_EQ_INT(atomic_mkdirs(at("a/b/c"), &e), 0, "mkdirs creates nested folders");
	tap_ok(stat(at("a/b/c"), &st) == 0 && S_ISDIR(st.st_mode), "they exist");
	TAP_EQ_INT(atomic_mkdirs(at("a/b/c"), &e), 0, "mkdirs on an existing folder is fine");
	TAP_EQ_INT(atomic_mkdirs(at("new.csv/sub"), &e), -1, "mkdirs through a file fails");
	TAP_EQ_INT(atomic_mkdirs(at("new.csv"), &e), -1, "mkdirs onto a file fails");

	/* a killed run's leftovers: only our own temporary names, older than
	 * the run's start, regular files, are removed */
	TAP_EQ_INT(atomic_mkdirs(at("sweep"), &e), 0, "a folder to sweep");
	const char *gone[] = {"sweep/.people.csv.tmp.a1B2c3", "sweep/.manifest.json.tmp.ZZZZZZ"};
	const char *kept[] = {"sweep/people.csv", "sweep/.people.csv.tmp.a1B2c",
			      "sweep/.people.csv.tmp.a1B2c3d", "sweep/people.csv.tmp.a1B2c3",
			      "sweep/.people.csv.tmp.a1-2c3", "sweep/.people.csv.tmq.a1B2c3"};
	struct timeval old[2] = {{1000000000, 0}, {1000000000, 0}};
	for (size_t i = 0; i < 2; i++) {
		put(at(gone[i]), "half");
		utimes(at(gone[i]), old);
	}
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		put(at(kept[i]), "mine");
		utimes(at(kept[i]), old);
	}
	put(at("sweep/.groups.csv.tmp.n0wRun"), "being written"); /* changed now */
	mkdir(at("sweep/.orgs.csv.tmp.dirXYZ"), 0755);
	utimes(at("sweep/.orgs.csv.tmp.dirXYZ"), old);
	long removed = -1;
	err_clear(&e);
	TAP_EQ_INT(atomic_sweep(at("sweep"), (double)time(NULL) - 60, &removed, &e), 0,
		   "sweep a folder");
	TAP_EQ_INT(removed, 2, "two leftovers removed");
	int ok = 1;
	for (size_t i = 0; i < 2; i++)
		ok &= access(at(gone[i]), F_OK) == -1 && errno == ENOENT;
	tap_ok(ok, "the old .NAME.tmp.XXXXXX files are gone");
	ok = 1;
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		ok &= is(at(kept[i]), "mine");
	tap_ok(ok, "other names (another length, no dot, another suffix) are kept");
	tap_ok(is(at("sweep/.groups.csv.tmp.n0wRun"), "being written"),
	       "a temporary file changed after the run began is kept (another run's)");
	tap_ok(stat(at("sweep/.orgs.csv.tmp.dirXYZ"), &st) == 0 && S_ISDIR(st.st_mode),
	       "a folder of that name is kept");
	TAP_EQ_INT(atomic_sweep(at("sweep"), (double)time(NULL) - 60, &removed, &e), 0,
		   "a second sweep");
	TAP_EQ_INT(removed, 0, "finds nothing more");
	TAP_EQ_INT(atomic_sweep(at("no-such-folder"), (double)time(NULL), &removed, &e), 0,
		   "a missing folder has nothing to sweep");
	err_clear(&e);
	TAP_EQ_INT(atomic_sweep(at("new.csv"), (double)time(NULL), &removed, &e), -1,
		   "a file in place of the folder fails");
	tap_ok(strstr(e.msg, "new.csv: reading the folder: Not a directory") != NULL,
	       "the error names the folder and the reason (%s)", e.msg);

	umask(mask);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
