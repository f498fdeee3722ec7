"""The fleet's httptester: what ansible-test's httptester container gives the
get_url, uri and unarchive integration targets, on the controller side of one
fleet's bridge.

Serves HTTP (port 80) and HTTPS (port 443) on one address for the names the
targets use (the fleet script points them at this address in every host's
/etc/hosts):

- ansible.http.tests: httpbin (the real one, from PyPI), plus /cacert.pem,
  /client.pem, /client.key and /ssl_client_verify as the container serves them;
- fail.ansible.http.tests: httpbin behind a certificate for another name;
- self-signed.ansible.http.tests: httpbin behind a self-signed certificate;
- sni1.ansible.http.tests, sni2.ansible.http.tests: a page naming the host
  (the targets grep for it), each with its own certificate, chosen by SNI;
- ci-files.testing.ansible.com: files from --files (release tarballs).

Run: httptester.py --bind ADDR --certs DIR --files DIR (the fleet script makes
DIR's certificates once, with openssl, and starts this at `fleet up`).
"""

import argparse
import os
import ssl
import sys
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import httpbin

CERT_FILES = ("cacert.pem", "client.pem", "client.key")


def static_file(root, path):
    """A file under root, never outside it; None when there is none."""
    full = os.path.realpath(os.path.join(root, path.lstrip("/")))
    if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
        return None
    with open(full, "rb") as f:
        return f.read()


def make_app(certs, files):
    def app(environ, start_response):
        req = Request(environ)
        host = (req.host or "").split(":")[0].lower()
        path = req.path
        if host.startswith("sni") and host.endswith(".ansible.http.tests"):
            body = f"<html><body>{host}</body></html>\n"
            return Response(body, content_type="text/html")(environ, start_response)
        if host == "ci-files.testing.ansible.com":
            data = static_file(files, path)
            resp = Response(data, content_type="application/octet-stream") if data is not None else Response("not found\n", status=404)
            return resp(environ, start_response)
        if host == "ansible.http.tests" and path.lstrip("/") in CERT_FILES:
            return Response(static_file(certs, path), content_type="application/x-pem-file")(environ, start_response)
        if path == "/ssl_client_verify":
            # nginx's $ssl_client_verify: SUCCESS once a client certificate the CA signed was shown.
            verdict = "SUCCESS" if environ.get("SSL_CLIENT_CERT") else "NONE"
            return Response(f"{host}:{verdict}", content_type="text/plain")(environ, start_response)
        return httpbin.app(environ, start_response)

    return app


def tls_context(certs):
    """One context per name, picked by SNI; the default one is ansible.http.tests'."""

    def load(name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, f"{name}.pem"), os.path.join(certs, f"{name}.key"))
        # Asked for, never required: /ssl_client_verify reports what was shown.
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(os.path.join(certs, "cacert.pem"))
        return ctx

    names = [
        "ansible.http.tests",
        "wrong.host",
        "self-signed.ansible.http.tests",
        "sni1.ansible.http.tests",
        "sni2.ansible.http.tests",
        "ci-files.testing.ansible.com",
    ]
    contexts = {name: load(name) for name in names}
    contexts["fail.ansible.http.tests"] = contexts["wrong.host"]
    default = contexts["ansible.http.tests"]

    def pick(sock, server_name, _ctx):
        chosen = contexts.get((server_name or "").lower())
        if chosen is not None:
            sock.context = chosen

    default.sni_callback = pick
    return default


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bind", required=True)
    parser.add_argument("--certs", required=True)
    parser.add_argument("--files", required=True)
    parser.add_argument("--http-port", type=int, default=80)
    parser.add_argument("--https-port", type=int, default=443)
    opts = parser.parse_args()
    app = make_app(opts.certs, opts.files)
    servers = [
        make_server(opts.bind, opts.http_port, app, threaded=True),
        make_server(opts.bind, opts.https_port, app, threaded=True, ssl_context=tls_context(opts.certs)),
    ]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    print(f"httptester: serving on {opts.bind}:{opts.http_port} and :{opts.https_port}", file=sys.stderr, flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
