#!/usr/bin/python3
"""Checks an OAuth 1.0a Authorization header with oauthlib (Debian's
python3-oauthlib), as a OneRoster provider's server would: the signature
recomputed by oauthlib.oauth1.rfc5849.signature from the request alone, then
the request put through oauthlib's SignatureOnlyEndpoint (mandatory
parameters, signature method, timestamp window, nonce format and reuse,
client key, signature).

    oauth1_check.py [--body FORM] [--methods M,M] --header VALUE METHOD URL

The credentials the server knows come on stdin, one a line, as the signer
(test_oauth1 sign) reads them: consumer key, consumer secret, token, token
secret (the last two may be missing or empty). --header may be given more
than once: each is checked in turn by the same server, so a nonce sent
twice is caught. --methods: the signature methods the server accepts
(default HMAC-SHA256,HMAC-SHA1).

Prints, for each header:
    base: the signature base string oauthlib builds for the request
    signature: valid | invalid
    endpoint: valid | invalid (REASON)
Exit status 0 when every header was checked (valid or not), 2 on bad usage.
"""
import argparse
import logging
import sys
import urllib.parse

from oauthlib.common import Request
from oauthlib.oauth1 import RequestValidator, SignatureOnlyEndpoint
from oauthlib.oauth1.rfc5849 import signature, utils

FORM = "application/x-www-form-urlencoded"


class Reasons(logging.Handler):
    """Keeps the reason oauthlib's endpoint logs for a refusal."""

    def __init__(self):
        super().__init__()
        self.last = None

    def emit(self, record):
        msg = record.getMessage()
        if msg.startswith("Exception caught while validating request, "):
            self.last = msg.split(", ", 1)[1].strip()


class Validator(RequestValidator):
    """One client, as the server knows it; nonces remembered per run."""

    def __init__(self, key, secret, token, token_secret, methods):
        super().__init__()
        self.key, self.secret = key, secret
        self.token, self.token_secret = token, token_secret
        self.methods = tuple(methods)
        self.seen = set()
        self.nonce_reused = False

    # the key is the district's, of any characters and length; the nonce's
    # default rules (20 to 30 letters and digits) stay as oauthlib has them
    def check_client_key(self, client_key):
        return bool(client_key)

    def check_access_token(self, token):
        return bool(token)

    @property
    def enforce_ssl(self):
        return False  # the test signs http URLs too (port 80, 8080)

    @property
    def allowed_signature_methods(self):
        return self.methods

    @property
    def dummy_client(self):
        return "dummy-client"

    @property
    def dummy_access_token(self):
        return "dummy-token"

    def validate_client_key(self, client_key, request):
        return client_key == self.key

    def get_client_secret(self, client_key, request):
        return self.secret if client_key == self.key else "dummy-secret"

    def get_access_token_secret(self, client_key, token, request):
        return self.token_secret if token == self.token else "dummy-secret"

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        seen = (client_key, timestamp, nonce)
        if seen in self.seen:
            self.nonce_reused = True
            return False
        self.seen.add(seen)
        return True


def check(args, header, validator, reasons):
    headers = {"Authorization": header}
    if args.body is not None:
        headers["Content-Type"] = FORM

    # the signature alone, from oauthlib's own steps
    query = urllib.parse.urlparse(args.url).query
    params = signature.collect_parameters(uri_query=query, body=args.body, headers=headers,
                                          exclude_oauth_signature=True, with_realm=False)
    base = signature.signature_base_string(args.method.upper(),
                                           signature.base_string_uri(args.url),
                                           signature.normalize_parameters(params))
    # the header's values as sent are encoded (section 3.5.1)
    sent = {k: utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    req = Request(args.url, args.method, args.body, headers)
    req.params = params
    req.signature = sent.get("oauth_signature", "")
    verify = (signature.verify_hmac_sha1 if sent.get("oauth_signature_method") == "HMAC-SHA1"
              else signature.verify_hmac_sha256)
    good = verify(req, validator.secret, validator.token_secret)
    print("base: " + base)
    print("signature: " + ("valid" if good else "invalid"))

    # the whole request, through the server's endpoint
    reasons.last = None
    validator.nonce_reused = False
    endpoint = SignatureOnlyEndpoint(validator)
    ok, request = endpoint.validate_request(args.url, args.method, args.body, headers)
    if ok:
        print("endpoint: valid")
        return
    if reasons.last:
        why = reasons.last
    elif validator.nonce_reused:
        why = "nonce used before"
    elif request is not None and request.validator_log.get("client") is False:
        why = "unknown client key"
    elif request is not None and request.validator_log.get("signature") is False:
        why = "bad signature"
    else:
        why = "refused"
    print(f"endpoint: invalid ({why})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--body")
    ap.add_argument("--methods", default="HMAC-SHA256,HMAC-SHA1")
    ap.add_argument("--header", action="append", required=True)
    ap.add_argument("method")
    ap.add_argument("url")
    args = ap.parse_args()
    creds = (sys.stdin.read().split("\n") + ["", "", "", ""])[:4]
    key, secret, token, token_secret = creds
    validator = Validator(key, secret, token or None, token_secret or None,
                          args.methods.split(","))
    reasons = Reasons()
    log = logging.getLogger("oauthlib")
    log.addHandler(reasons)
    log.setLevel(logging.INFO)
    log.propagate = False
    for h in args.header:
        check(args, h, validator, reasons)
    return 0


if __name__ == "__main__":
    sys.exit(main())
