"""A DAV server without REPORT sync-collection, for tests: a small HTTP proxy on 127.0.0.1 in
front of a real server (Radicale, Xandikos) that answers every sync-collection REPORT with 403
supported-report, as servers without RFC 6578 do, and passes every other request through.

Clients then fall back to what such servers offer: the collection's ctag and each resource's
etag (PROPFIND Depth 1).
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.servers.radicale import free_port

_NOT_PASSED_ON = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}
_REFUSAL = (b'<?xml version="1.0" encoding="utf-8"?>'
            b'<D:error xmlns:D="DAV:"><D:supported-report/></D:error>')


class EtagOnlyProxy:
    """Serves `target` (a server URL, 'http://127.0.0.1:PORT') at `self.url`, without
    sync-collection. A context manager: the proxy runs in a thread until exit."""

    def __init__(self, target: str):
        self.target = target.rstrip("/")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.refused = 0                  # sync-collection REPORTs refused
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> "EtagOnlyProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.command == "REPORT" and body and b"sync-collection" in body:
                    proxy.refused += 1
                    self._answer(403, {"Content-Type": "application/xml"}, _REFUSAL)
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _NOT_PASSED_ON}
                # http.client, not requests: tests spy on requests' sessions, and should see
                # kith's requests only.
                target = urlsplit(proxy.target)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    content = r.read()
                    out = {k: v for k, v in r.getheaders()
                           if k.lower() not in _NOT_PASSED_ON}
                finally:
                    conn.close()
                if "Location" in out:
                    out["Location"] = out["Location"].replace(proxy.target, proxy.url)
                self._answer(r.status, out, content)

            def _answer(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = _any

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", int(self.url.rsplit(":", 1)[1])),
                                           Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
