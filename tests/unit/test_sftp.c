/* The SFTP client against the system's real OpenSSH sshd on loopback
 * (tests/sftp/sshd-env.sh; needs root): host key checks (known_hosts plain
 * and hashed, pinned fingerprints, unknown and changed keys), key and
 * password logins, listing, stat, whole-file reads, a connection cut part
 * way and a refused connection. */
#include "net/sftp.h"
#include "tap.h"

#include <openssl/evp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BIG (1024 * 1024)
#define WRONG_PASS "Wr0ng-Passphrase-Zq9"
#define WRONG_PW "Wr0ng-Password-Kx7"

static char dir[256];
static int port;
static char user[64], home[512], kh[512], kh_hashed[512], fp[128];
static char key_ed[512], key_rsa[512], key_enc[512];
static char *passphrase, *password;

static void keep(const char *line)
{
	static const struct {
		const char *name;
		char *to;
		size_t n;
	} vars[] = {
		{ "SSHD_USER=", user, sizeof user },
		{ "SSHD_HOME=", home, sizeof home },
		{ "SSHD_KNOWN_HOSTS=", kh, sizeof kh },
		{ "SSHD_KNOWN_HOSTS_HASHED=", kh_hashed, sizeof kh_hashed },
		{ "SSHD_FINGERPRINT=", fp, sizeof fp },
		{ "SSHD_KEY_ED25519=", key_ed, sizeof key_ed },
		{ "SSHD_KEY_RSA=", key_rsa, sizeof key_rsa },
		{ "SSHD_KEY_ENC=", key_enc, sizeof key_enc },
	};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		size_t l = strlen(vars[i].name);
		if (!strncmp(line, vars[i].name, l))
			snprintf(vars[i].to, vars[i].n, "%s", line + l);
	}
	if (!strncmp(line, "SSHD_PORT=", 10))
		port = atoi(line + 10);
	if (!strncmp(line, "SSHD_PASSPHRASE=", 16))
		passphrase = strdup(line + 16);
	if (!strncmp(line, "SSHD_PASSWORD=", 14))
		password = strdup(line + 14);
}

static void forget_secrets(void)
{
	if (passphrase)
		explicit_bzero(passphrase, strlen(passphrase));
	if (password)
		explicit_bzero(password, strlen(password));
	free(passphrase);
	free(password);
	passphrase = password = NULL;
}

static int sshd_start(const char *name)
{
	char cmd[512], line[1024];
	forget_secrets();
	port = 0;
	snprintf(cmd, sizeof cmd, "bash tests/sftp/sshd-env.sh start %s/%s", dir, name);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = 0;
		keep(line);
	}
	int rc = pclose(p);
	return rc == 0 && port && passphrase && password && fp[0] ? 0 : -1;
}

static void sshd_stop(const char *name)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "bash tests/sftp/sshd-env.sh stop %s/%s", dir, name);
	if (system(cmd))
		tap_diag("stopping sshd failed");
}

static int cutproxy(int bytes)
{
	char cmd[512], line[64] = "";
	snprintf(cmd, sizeof cmd, "bash tests/sftp/sshd-env.sh cutproxy %s/sshd %d %d", dir, port,
		 bytes);
	FILE *p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(line, sizeof line, p))
		line[0] = 0;
	pclose(p);
	return atoi(line);
}

static struct sftp_conf conf(void)
{
	struct sftp_conf c = { 0 };
	c.host = "127.0.0.1";
	c.port = port;
	c.user = user;
	c.known_hosts = kh;
	c.key_file = key_ed;
	c.timeout = 10;
	return c;
}

static char msg[2048];

/* Opens with c; on failure the formatted error is in msg. */
static struct sftp_conn *try_open(const struct sftp_conf *c, struct rt_err *e)
{
	err_clear(e);
	msg[0] = 0;
	struct sftp_conn *s = sftp_open(c, e);
	if (!s)
		err_format(e, msg, sizeof msg);
	return s;
}

static void expect_refused(const struct sftp_conf *c, enum err_kind kind, const char *want,
			   const char *name)
{
	struct rt_err e;
	struct sftp_conn *s = try_open(c, &e);
	tap_ok(!s && e.kind == kind && strstr(msg, want), "%s", name);
	if (s || e.kind != kind || !strstr(msg, want))
		tap_diag("  kind %s, want %s; message: %s; want it to contain: %s",
			 err_kind_name(e.kind), err_kind_name(kind), msg, want);
	sftp_close(s);
}

static void write_file(const char *name, const void *p, size_t n, int mode, long long mtime)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", home, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f))
		tap_diag("cannot write %s", path);
	chmod(path, mode);
	if (mtime) {
		struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
		utimes(path, tv);
	}
}

static void write_text(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		tap_diag("cannot write %s", path);
	chmod(path, mode);
}

struct sink {
	EVP_MD_CTX *md;
	unsigned long long n;
	int stop_after; /* calls before fn refuses; 0: never */
	int calls;
};

static int sink_fn(void *ctx, const void *data, size_t len, struct rt_err *e)
{
	struct sink *k = ctx;
	if (k->stop_after && ++k->calls >= k->stop_after) {
		err_set(e, ERR_IO, "the sink is full");
		return -1;
	}
	EVP_DigestUpdate(k->md, data, len);
	k->n += len;
	return 0;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned int l = 32;
	EVP_Digest(p, n, out, &l, EVP_sha256(), NULL);
}

static void test_host_keys(void)
{
	struct rt_err e;
	struct sftp_conf c = conf();
	struct sftp_conn *s = try_open(&c, &e);
	tap_ok(s != NULL, "ed25519 key, plain known_hosts: logged in");
	if (!s)
		tap_diag("  %s", msg);
	tap_ok(s && !strcmp(sftp_fingerprint(s), fp), "the fingerprint is ssh-keygen -l's");
	if (s && strcmp(sftp_fingerprint(s), fp))
		tap_diag("  got %s, want %s", sftp_fingerprint(s), fp);
	sftp_close(s);

	c = conf();
	c.key_file = key_rsa;
	c.known_hosts = kh_hashed;
	s = try_open(&c, &e);
	tap_ok(s != NULL, "RSA key, hashed known_hosts: logged in");
	if (!s)
		tap_diag("  %s", msg);
	sftp_close(s);

	c = conf();
	c.known_hosts = NULL;
	c.fingerprint = fp;
	s = try_open(&c, &e);
	tap_ok(s != NULL, "pinned fingerprint: logged in");
	if (!s)
		tap_diag("  %s", msg);
	sftp_close(s);

	c.fingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	expect_refused(&c, ERR_CONFIG, fp, "wrong pinned fingerprint: refused, naming the offered one");
	tap_ok(strstr(msg, "SHA256:AAAA") && strstr(msg, "fingerprint ="),
	       "  ... naming the pinned one and how to pin");
	c.fingerprint = fp + 7;
	expect_refused(&c, ERR_CONFIG, "SHA256:<base64>",
		       "fingerprint without SHA256: prefix: refused, saying the prefix is needed");

	char other[600], line[1200];
	snprintf(other, sizeof other, "%s/kh_other", dir);
	write_text(other,
		   "# another host only\n"
		   "sftp.mapleridge.example ssh-ed25519 "
		   "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
		   0644);
	c = conf();
	c.known_hosts = other;
	expect_refused(&c, ERR_CONFIG, "unknown host key", "unknown host: refused");
	tap_ok(strstr(msg, fp) != NULL, "  ... with the offered fingerprint");
	snprintf(line, sizeof line, "ssh-keyscan -p %d 127.0.0.1", port);
	tap_ok(strstr(msg, line) != NULL, "  ... and the ssh-keyscan line");
	if (!strstr(msg, line))
		tap_diag("  %s", msg);

	snprintf(line, sizeof line,
		 "[127.0.0.1]:%d ssh-ed25519 "
		 "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
		 port);
	write_text(other, line, 0644);
	expect_refused(&c, ERR_CONFIG, "has CHANGED", "another ed25519 key known: refused as changed");
	tap_ok(strstr(msg, fp) && strstr(msg, "intercepting"),
	       "  ... with the offered fingerprint and the warning");

	/* a known RSA key only: the server's ed25519 key is a change too */
	char pub[600], *rsa_pub;
	snprintf(pub, sizeof pub, "%s.pub", key_rsa);
	rsa_pub = tap_slurp(pub, NULL);
	if (rsa_pub) {
		rsa_pub[strcspn(rsa_pub, "\n")] = 0;
		snprintf(line, sizeof line, "[127.0.0.1]:%d %.1000s\n", port, rsa_pub);
		free(rsa_pub);
	}
	write_text(other, line, 0644);
	expect_refused(&c, ERR_CONFIG, "has CHANGED",
		       "only an RSA key known, server offers ed25519: refused as changed");

	/* port 22 entries do not stand for another port */
	write_text(other, "127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n", 0644);
	expect_refused(&c, ERR_CONFIG, "unknown host key", "an entry for port 22 only: unknown");

	snprintf(other, sizeof other, "%s/no_such_known_hosts", dir);
	expect_refused(&c, ERR_CONFIG, other, "missing known_hosts: refused naming the file");

	c = conf();
	c.known_hosts = NULL;
	expect_refused(&c, ERR_CONFIG, "fingerprint", "neither known_hosts nor fingerprint: refused");
}

static void test_auth(void)
{
	struct rt_err e;
	struct sftp_conf c = conf();
	c.key_file = key_enc;
	c.passphrase = passphrase;
	c.timeout = 60; /* bcrypt_pbkdf is slow under valgrind, and inside the timeout */
	struct sftp_conn *s = try_open(&c, &e);
	tap_ok(s != NULL, "encrypted key, right passphrase: logged in");
	if (!s)
		tap_diag("  %s", msg);
	sftp_close(s);

	c.passphrase = WRONG_PASS;
	expect_refused(&c, ERR_AUTH, key_enc, "encrypted key, wrong passphrase: ERR_AUTH naming the key");
	tap_ok(!strstr(msg, WRONG_PASS) && !strstr(msg, passphrase),
	       "  ... and the message has no passphrase in it");
	tap_ok(!strstr(e.msg, "Wr0ng") && !strstr(e.hint, "Wr0ng"), "  ... not even in part");

	c.passphrase = NULL;
	expect_refused(&c, ERR_AUTH, "passphrase", "encrypted key, no passphrase: ERR_AUTH saying so");

	char copy[600];
	snprintf(copy, sizeof copy, "%s/key_0644", dir);
	char *k = tap_slurp(key_ed, NULL);
	write_text(copy, k ? k : "", 0644);
	free(k);
	c = conf();
	c.key_file = copy;
	expect_refused(&c, ERR_CONFIG, "chmod 600", "key file mode 0644: refused with chmod 600");
	chmod(copy, 0600);
	s = try_open(&c, &e);
	tap_ok(s != NULL, "  ... and accepted once chmod 600");
	sftp_close(s);

	/* a PEM RSA key (the OpenSSL route of the rsa-sha2 signer) */
	snprintf(copy, sizeof copy, "%s/key_pem", dir);
	k = tap_slurp(key_rsa, NULL);
	write_text(copy, k ? k : "", 0600);
	free(k);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -p -m PEM -P '' -N '' -f %s >/dev/null", copy);
	tap_ok(system(cmd) == 0, "ssh-keygen converts the RSA key to PEM");
	k = tap_slurp(copy, NULL);
	tap_ok(k && strstr(k, "BEGIN RSA PRIVATE KEY"), "  ... BEGIN RSA PRIVATE KEY");
	free(k);
	c.key_file = copy;
	s = try_open(&c, &e);
	tap_ok(s != NULL, "PEM RSA key: logged in");
	if (!s)
		tap_diag("  %s", msg);
	sftp_close(s);

	snprintf(copy, sizeof copy, "%s/not_a_key", dir);
	write_text(copy, "hello\n", 0600);
	c.key_file = copy;
	expect_refused(&c, ERR_CONFIG, "cannot use the key", "not a key: ERR_CONFIG cannot use it");

	snprintf(copy, sizeof copy, "%s/no_such_key", dir);
	c.key_file = copy;
	expect_refused(&c, ERR_CONFIG, copy, "missing key file: refused naming it");

	c = conf();
	c.key_file = NULL;
	c.password = password;
	s = try_open(&c, &e);
	tap_ok(s != NULL, "password: logged in");
	if (!s)
		tap_diag("  %s", msg);
	sftp_close(s);

	c.password = WRONG_PW;
	char want[1024];
	snprintf(want, sizeof want, "%s@127.0.0.1:%d refused the password", user, port);
	expect_refused(&c, ERR_AUTH, want, "wrong password: ERR_AUTH user@host:port");
	tap_ok(!strstr(msg, WRONG_PW) && !strstr(msg, password), "  ... without the password");

	c = conf();
	c.user = "nobody-here";
	snprintf(want, sizeof want, "nobody-here@127.0.0.1:%d refused the key %s", port, key_ed);
	expect_refused(&c, ERR_AUTH, want, "unknown user: the key is refused");
	tap_ok(strstr(msg, "authorized_keys") != NULL, "  ... with the authorized_keys hint");
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct sftp_entry *)a)->name, ((const struct sftp_entry *)b)->name);
}

static void test_files(void)
{
	struct rt_err e;
	struct sftp_conf c = conf();
	struct sftp_conn *s = try_open(&c, &e);
	if (!s) {
		tap_ok(0, "logged in for the file tests: %s", msg);
		return;
	}
	char path[1024];
	snprintf(path, sizeof path, "%s/drop", home);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/drop/archive", home);
	mkdir(path, 0755);
	write_file("drop/employees.csv", "a,b\n1,2\n", 8, 0644, 1700000000);
	write_file("drop/absences.csv", "", 0, 0644, 1600000000);

	struct sftp_entry *v = NULL;
	size_t n = 0;
	snprintf(path, sizeof path, "%s/drop", home);
	err_clear(&e);
	int rc = sftp_list(s, path, &v, &n, &e);
	tap_ok(rc == 0 && n == 3, "list: three entries, . and .. left out");
	if (rc == 0 && n == 3) {
		qsort(v, n, sizeof *v, by_name);
		tap_ok(!strcmp(v[0].name, "absences.csv") && v[0].size == 0 &&
			       v[0].mtime == 1600000000 && v[0].regular,
		       "  absences.csv: empty regular file, its mtime");
		tap_ok(!strcmp(v[1].name, "archive") && !v[1].regular, "  archive: a folder");
		tap_ok(!strcmp(v[2].name, "employees.csv") && v[2].size == 8 &&
			       v[2].mtime == 1700000000 && v[2].regular,
		       "  employees.csv: 8 bytes, its mtime");
	} else {
		tap_diag("  rc %d n %zu", rc, n);
	}
	free(v);

	/* relative paths start in SSHD_HOME */
	rc = sftp_list(s, "drop", &v, &n, &e);
	tap_ok(rc == 0 && n == 3, "list a relative path");
	free(v);

	err_clear(&e);
	rc = sftp_list(s, "no-such-folder", &v, &n, &e);
	err_format(&e, msg, sizeof msg);
	tap_ok(rc == -1 && !v && n == 0 && strstr(msg, "no such file") &&
		       strstr(msg, "127.0.0.1:") && strstr(msg, "no-such-folder"),
	       "list a missing folder: -1 naming host:port, path and the SFTP status");
	if (rc != -1 || !strstr(msg, "no such file"))
		tap_diag("  %s", msg);

	struct sftp_entry st;
	err_clear(&e);
	TAP_EQ_INT(sftp_stat(s, "drop/nothing.csv", &st, &e), 1, "stat a missing file: 1");
	TAP_EQ_INT(sftp_stat(s, "drop/employees.csv", &st, &e), 0, "stat a file: 0");
	tap_ok(st.size == 8 && st.regular && st.mtime == 1700000000 &&
		       !strcmp(st.name, "employees.csv"),
	       "  ... its size, mtime and name");
	TAP_EQ_INT(sftp_stat(s, "drop/archive", &st, &e), 0, "stat a folder: 0");
	tap_ok(!st.regular, "  ... not regular");

	/* a 1 MiB file of pseudo-random bytes */
	unsigned char *big = malloc(BIG), want[32], got_md[32];
	unsigned int x = 12345;
	for (size_t i = 0; i < BIG; i++) {
		x = x * 1103515245 + 12345;
		big[i] = x >> 16;
	}
	write_file("drop/big.bin", big, BIG, 0644, 0);
	sha256(big, BIG, want);
	free(big);
	struct sink k = { .md = EVP_MD_CTX_new() };
	EVP_DigestInit_ex(k.md, EVP_sha256(), NULL);
	unsigned long long got = 0;
	err_clear(&e);
	rc = sftp_get(s, "drop/big.bin", sink_fn, &k, &got, &e);
	unsigned int l = 32;
	EVP_DigestFinal_ex(k.md, got_md, &l);
	tap_ok(rc == 0 && got == BIG && k.n == BIG, "get 1 MiB: every byte delivered");
	if (rc)
		err_format(&e, msg, sizeof msg), tap_diag("  %s", msg);
	tap_ok(!memcmp(want, got_md, 32), "  ... the same SHA-256");

	/* the callback stops it */
	EVP_DigestInit_ex(k.md, EVP_sha256(), NULL);
	k.stop_after = 2;
	k.calls = 0;
	err_clear(&e);
	rc = sftp_get(s, "drop/big.bin", sink_fn, &k, &got, &e);
	tap_ok(rc == -1 && e.kind == ERR_IO && !strcmp(e.msg, "the sink is full") && got > 0 &&
		       got < BIG,
	       "get: the callback's -1 stops it with the callback's error");
	k.stop_after = 0;

	write_file("drop/secret.csv", "x\n", 2, 0600, 0);
	err_clear(&e);
	rc = sftp_get(s, "drop/secret.csv", sink_fn, &k, &got, &e);
	err_format(&e, msg, sizeof msg);
	tap_ok(rc == -1 && strstr(msg, "permission denied") && strstr(msg, "drop/secret.csv"),
	       "get an unreadable file: permission denied, naming it");
	if (rc != -1 || !strstr(msg, "permission denied"))
		tap_diag("  %s", msg);
	err_clear(&e);
	rc = sftp_get(s, "drop/missing.csv", sink_fn, &k, &got, &e);
	err_format(&e, msg, sizeof msg);
	tap_ok(rc == -1 && strstr(msg, "no such file") && strstr(msg, "drop/missing.csv"),
	       "get a missing file: no such file, naming it");
	sftp_close(s);

	/* the connection cut part way */
	int cut = cutproxy(300000);
	tap_ok(cut > 0, "cut proxy started");
	c = conf();
	c.port = cut;
	c.known_hosts = NULL;
	c.fingerprint = fp;
	s = try_open(&c, &e);
	tap_ok(s != NULL, "logged in through the cut proxy");
	if (s) {
		EVP_DigestInit_ex(k.md, EVP_sha256(), NULL);
		k.n = 0;
		err_clear(&e);
		rc = sftp_get(s, "drop/big.bin", sink_fn, &k, &got, &e);
		err_format(&e, msg, sizeof msg);
		char want_msg[256];
		snprintf(want_msg, sizeof want_msg,
			 "127.0.0.1:%d:drop/big.bin: connection lost after %llu of %d bytes", cut,
			 got, BIG);
		tap_ok(rc == -1 && e.kind == ERR_NETWORK, "get cut at 300000 bytes: -1 ERR_NETWORK");
		tap_ok(strstr(msg, want_msg) && got > 0 && got < 300000 && got == k.n,
		       "  ... naming host:port:path and the bytes delivered");
		if (!strstr(msg, want_msg))
			tap_diag("  %s; want %s", msg, want_msg);
		sftp_close(s);
	}
	EVP_MD_CTX_free(k.md);
}

static int free_port(int listen_too, int *fd_out)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof a;
	bind(fd, (struct sockaddr *)&a, sizeof a);
	getsockname(fd, (struct sockaddr *)&a, &l);
	if (listen_too) {
		listen(fd, 4);
		*fd_out = fd;
	} else {
		close(fd);
	}
	return ntohs(a.sin_port);
}

static void test_network(void)
{
	struct sftp_conf c = conf();
	char want[64];
	int lfd = -1;
	c.port = free_port(0, NULL);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d", c.port);
	expect_refused(&c, ERR_NETWORK, want, "connection refused: ERR_NETWORK naming host:port");

	/* a server that accepts and never speaks: the timeout bounds the wait */
	c.port = free_port(1, &lfd);
	c.timeout = 0.5;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(want, sizeof want, "127.0.0.1:%d", c.port);
	expect_refused(&c, ERR_NETWORK, want, "a silent server: ERR_NETWORK");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	tap_ok(secs < 3, "  ... within the timeout (%.1f s)", secs);
	close(lfd);

	c = conf();
	c.host = "no-such-host.invalid";
	expect_refused(&c, ERR_NETWORK, "no-such-host.invalid", "unknown host name: ERR_NETWORK");
}

/* A server that takes keys only: a password login is refused up front. */
static void test_no_password(void)
{
	setenv("SSHD_EXTRA_CONFIG", "PasswordAuthentication no", 1);
	int up = sshd_start("sshd-keys-only") == 0;
	unsetenv("SSHD_EXTRA_CONFIG");
	tap_ok(up, "a keys-only sshd started");
	if (up) {
		struct sftp_conf c = conf();
		c.key_file = NULL;
		c.password = password;
		expect_refused(&c, ERR_AUTH, "does not accept password logins",
			       "password to a keys-only server: ERR_AUTH saying so");
		tap_ok(strstr(msg, "publickey") != NULL, "  ... naming what it offers");
		struct rt_err e;
		c = conf();
		struct sftp_conn *s = try_open(&c, &e);
		tap_ok(s != NULL, "  ... and the key still logs in");
		sftp_close(s);
	}
	sshd_stop("sshd-keys-only");
}

int main(void)
{
	struct rt_err e;
	char tmpl[256];
	tap_tmp_name(tmpl, sizeof tmpl, "sftp");
	if (!mkdtemp(tmpl)) {
		tap_ok(0, "temporary folder");
		return tap_done();
	}
	snprintf(dir, sizeof dir, "%s", tmpl);
	if (sftp_global_init(&e)) {
		tap_ok(0, "libssh2 starts");
		return tap_done();
	}
	int up = sshd_start("sshd") == 0;
	tap_ok(up, "sshd started (tests/sftp/sshd-env.sh; needs root)");
	if (up) {
		test_host_keys();
		test_auth();
		test_files();
		test_network();
	}
	sshd_stop("sshd");
	if (up)
		test_no_password();
	sftp_global_exit();
	forget_secrets();
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("cannot remove %s", dir);
	return tap_done();
}
