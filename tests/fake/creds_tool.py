#!/usr/bin/python3
"""Reads, checks and damages credentials files from the outside, with
Python's cryptography.fernet, for tests/creds.bats. It knows only the
documented format:

    roster-credentials 1
    key-id <16 hex>     first 8 bytes of HMAC-SHA256(signing key, "roster-credentials key-id")
    secret <NAME> <fernet token>
    mac <64 hex>

Commands (exit 0 on success, 1 with a reason on stderr otherwise):
  keylen KEYFILE                 the byte count the key text decodes to
  verify KEYFILE FILE            checks the layout and the key-id, decrypts
                                 every token; prints NAME<TAB>ISO<TAB>EPOCH
                                 (the token times) in file order
  decrypt KEYFILE FILE NAME      the secret's bytes on stdout (exit 3 when
                                 the key does not decrypt the token)
  flip FILE NAME                 changes one character inside NAME's token
  swap FILE A B                  exchanges the names of entries A and B
  leaks SECRETFILE FILE...       fails when a FILE holds the secret, its hex,
                                 or a piece of its base64 (standard or
                                 URL-safe, at every alignment)
  watch SECRETFILE CMD...        runs CMD with the secret on a pipe as stdin,
                                 and fails when the secret shows in the
                                 command line, environment or name of any
                                 process while CMD runs, or in CMD's output
  pty SECRET CMD...              runs CMD on a pseudo-terminal: waits for a
                                 prompt and for echo to be off, types SECRET
                                 and Enter; fails when no prompt came, the
                                 secret was echoed, or CMD failed
"""
import base64
import binascii
import hashlib
import hmac
import os
import re
import select
import subprocess
import sys
import time

from cryptography.fernet import Fernet, InvalidToken

NAME_RE = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
TOKEN_RE = re.compile(rb"[A-Za-z0-9_=-]+\Z")


def die(msg, code=1):
    sys.stderr.write("creds_tool: %s\n" % msg)
    sys.exit(code)


def read_key(path):
    with open(path, "rb") as f:
        text = f.read()
    if not text.endswith(b"\n") or len(text) != 45:
        die("%s: not 44 characters and a newline (%d bytes)" % (path, len(text)))
    raw = base64.urlsafe_b64decode(text[:-1])
    if base64.urlsafe_b64encode(raw) != text[:-1]:
        die("%s: not canonical base64url" % path)
    return text[:-1], raw


def parse(path):
    """The lines of a credentials file, checked against the layout:
    (key-id hex, [(name, token)])."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.endswith(b"\n"):
        die("%s: does not end with a newline" % path)
    lines = data[:-1].split(b"\n")
    if len(lines) < 3:
        die("%s: fewer than 3 lines" % path)
    if lines[0] != b"roster-credentials 1":
        die("%s: line 1 is %r" % (path, lines[0]))
    m = re.fullmatch(rb"key-id ([0-9a-f]{16})", lines[1])
    if not m:
        die("%s: line 2 is %r" % (path, lines[1]))
    keyid = m.group(1).decode()
    if not re.fullmatch(rb"mac [0-9a-f]{64}", lines[-1]):
        die("%s: last line is %r" % (path, lines[-1]))
    entries = []
    for i, line in enumerate(lines[2:-1], 3):
        parts = line.split(b" ")
        if len(parts) != 3 or parts[0] != b"secret":
            die("%s:%d: not 'secret NAME TOKEN': %r" % (path, i, line[:40]))
        if not NAME_RE.match(parts[1]) or not TOKEN_RE.match(parts[2]):
            die("%s:%d: bad name or token" % (path, i))
        entries.append((parts[1].decode(), parts[2]))
    names = [n for n, _ in entries]
    if len(set(names)) != len(names):
        die("%s: a name appears twice" % path)
    return keyid, entries


def cmd_keylen(keyfile):
    _, raw = read_key(keyfile)
    print(len(raw))


def cmd_verify(keyfile, path):
    text, raw = read_key(keyfile)
    keyid, entries = parse(path)
    want = hmac.new(raw[:16], b"roster-credentials key-id", hashlib.sha256).hexdigest()[:16]
    if keyid != want:
        die("%s: key-id %s, the key's is %s" % (path, keyid, want))
    fer = Fernet(text)
    for name, token in entries:
        try:
            fer.decrypt(token)
        except InvalidToken:
            die("%s: the token of %s does not decrypt" % (path, name))
        ts = fer.extract_timestamp(token)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        print("%s\t%s\t%d" % (name, iso, ts))


def cmd_decrypt(keyfile, path, name):
    text, _ = read_key(keyfile)
    _, entries = parse(path)
    for n, token in entries:
        if n == name:
            try:
                plain = Fernet(text).decrypt(token)
            except InvalidToken:
                die("%s: the token of %s does not decrypt with %s" % (path, name, keyfile), 3)
            sys.stdout.buffer.write(plain)
            return
    die("%s: no entry %s" % (path, name))


def rewrite(path, fn):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    lines = fn(lines)
    with open(path, "wb") as f:
        f.write(b"\n".join(lines))


def entry_index(lines, name):
    for i, line in enumerate(lines):
        if line.startswith(b"secret " + name.encode() + b" "):
            return i
    die("no entry %s" % name)


def cmd_flip(path, name):
    def fn(lines):
        i = entry_index(lines, name)
        head, token = lines[i].rsplit(b" ", 1)
        t = bytearray(token)
        pos = len(t) // 2  # inside the ciphertext: all 6 bits count
        t[pos] = ord("B") if t[pos] != ord("B") else ord("C")
        lines[i] = head + b" " + bytes(t)
        return lines
    rewrite(path, fn)


def cmd_swap(path, a, b):
    def fn(lines):
        i, j = entry_index(lines, a), entry_index(lines, b)
        ti, tj = lines[i].rsplit(b" ", 1)[1], lines[j].rsplit(b" ", 1)[1]
        lines[i] = b"secret " + a.encode() + b" " + tj
        lines[j] = b"secret " + b.encode() + b" " + ti
        return lines
    rewrite(path, fn)


def pieces(secret):
    """Byte strings that would betray the secret: itself, its hex, and the
    stable middle of its base64 at the three alignments."""
    out = [secret, binascii.hexlify(secret), binascii.hexlify(secret).upper()]
    for shift in range(3):
        part = secret[shift:]
        part = part[: len(part) - len(part) % 3]
        if len(part) < 12:
            continue
        for enc in (base64.b64encode(part), base64.urlsafe_b64encode(part)):
            out.append(enc.rstrip(b"="))
    return out


def cmd_leaks(secretfile, *files):
    with open(secretfile, "rb") as f:
        secret = f.read()
    bad = 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        for p in pieces(secret):
            if p in data:
                sys.stderr.write("creds_tool: %s holds %r\n" % (path, p[:24]))
                bad = 1
    sys.exit(bad)


def proc_texts():
    """(pid, what, bytes) for every readable cmdline, environ and comm."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        for what in ("cmdline", "environ", "comm"):
            try:
                with open("/proc/%s/%s" % (pid, what), "rb") as f:
                    yield pid, what, f.read()
            except OSError:
                pass


def cmd_watch(secretfile, *cmd):
    with open(secretfile, "rb") as f:
        secret = f.read()
    probe = secret.rstrip(b"\r\n")[:16]
    found = []

    def scan():
        for pid, what, text in proc_texts():
            if probe in text:
                found.append("%s of process %s" % (what, pid))

    p = subprocess.Popen(list(cmd), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdin.write(secret)
    p.stdin.flush()
    time.sleep(0.2)  # the program has the secret and waits for the end
    scan()
    p.stdin.close()
    while p.poll() is None:
        scan()
        time.sleep(0.005)
    out, err = p.stdout.read(), p.stderr.read()
    for label, text in (("stdout", out), ("stderr", err)):
        if probe in text:
            found.append(label)
    sys.stdout.write("exit %d\n" % p.returncode)
    sys.stdout.write("stderr: %s\n" % err.decode("utf-8", "replace").strip())
    if found:
        die("the secret shows in: " + ", ".join(sorted(set(found))))
    sys.exit(0 if p.returncode == 0 else 2)


def cmd_pty(secret, *cmd):
    import pty
    import termios

    secret = secret.encode()
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execv(cmd[0], list(cmd))
        finally:
            os._exit(127)

    buf = bytearray()

    def pump(timeout):
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        buf.extend(chunk)
        return True

    deadline = time.time() + 10
    while not buf.strip() and time.time() < deadline:
        if not pump(0.05):
            break
    prompt = bytes(buf)
    if not prompt.strip():
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        die("no prompt within 10 s")
    # typing before echo is off would show the secret: wait for it
    deadline = time.time() + 5
    while time.time() < deadline:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            break
        pump(0.02)
    echo_off = not termios.tcgetattr(fd)[3] & termios.ECHO
    os.write(fd, secret + b"\n")
    deadline = time.time() + 10
    while time.time() < deadline:
        if not pump(0.1):
            break
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    text = bytes(buf)
    sys.stdout.write("prompt: %r\nexit %d\necho off: %s\n" % (prompt, code, echo_off))
    if secret in text:
        die("the typed secret was echoed: %r" % text)
    if not echo_off:
        die("echo was still on after the prompt")
    if code != 0:
        die("the command exited %d" % code)


COMMANDS = {
    "keylen": (cmd_keylen, 1),
    "verify": (cmd_verify, 2),
    "decrypt": (cmd_decrypt, 3),
    "flip": (cmd_flip, 2),
    "swap": (cmd_swap, 3),
    "leaks": (cmd_leaks, -2),
    "watch": (cmd_watch, -2),
    "pty": (cmd_pty, -2),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS:
        die("usage: creds_tool.py %s ..." % "|".join(COMMANDS), 2)
    fn, n = COMMANDS[argv[1]]
    args = argv[2:]
    if (n >= 0 and len(args) != n) or (n < 0 and len(args) < -n):
        die("%s: wrong number of arguments" % argv[1], 2)
    fn(*args)


if __name__ == "__main__":
    main(sys.argv)
