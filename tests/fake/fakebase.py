"""What the fake vendor server and its personalities share: the request
and reply types, the clock, and small reply builders."""
import json
import os
import time


class Request:
    """One request as received. query is a dict of lists, headers a dict
    with lower-case names."""

    def __init__(self, method, path, query, raw_query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.raw_query = raw_query
        self.headers = headers
        self.body = body

    def arg(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default


class Reply:
    def __init__(self, status, body=b"", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode("utf-8")
        self.headers = dict(headers or {})


def json_reply(status, obj, headers=None):
    h = {"Content-Type": "application/json; charset=utf-8"}
    h.update(headers or {})
    return Reply(status, json.dumps(obj, ensure_ascii=False), h)


def html_reply(status, title, headers=None):
    # what a vendor's web front answers when it is not the API answering
    page = ("<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
            "<body><h1>%s</h1><p>The page you requested could not be shown.</p></body></html>\n"
            % (status, title, title))
    h = {"Content-Type": "text/html; charset=utf-8"}
    h.update(headers or {})
    return Reply(status, page, h)


def now():
    """Real time, or EPOCH when ROSTER_FAKE_CLOCK=EPOCH[:SEED] is set, so
    that tests know the exact reset times the server announces."""
    fake = os.environ.get("ROSTER_FAKE_CLOCK")
    if fake:
        return float(fake.split(":")[0])
    return time.time()


def path_matches(pattern, path):
    """An exact path, or a prefix when the pattern ends in '*'."""
    if pattern.endswith("*"):
        return path.startswith(pattern[:-1])
    return path == pattern


def mode_applies(value, path):
    """A mode switch: true (every path), a path pattern, or a list of them."""
    if value is True:
        return True
    if isinstance(value, str):
        return path_matches(value, path)
    if isinstance(value, list):
        return any(path_matches(p, path) for p in value)
    return False
