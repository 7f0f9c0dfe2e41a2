"""A local HTTP server for download tests: routes map a path to what the server does."""

import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        action, body = self.server.routes.get(self.path, ("status", 404))
        self.server.hits.append(self.path)
        if action == "status":
            self.send_error(body)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if action == "ok":
            self.wfile.write(body)
        elif action == "drop":                  # promise len(body) bytes, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, *args):               # keep test output quiet
        pass


@contextmanager
def serve(routes):
    """Serve ``{path: ("ok", bytes) | ("drop", bytes) | ("status", code)}`` on 127.0.0.1.

    Yields ``(base_url, server)``; ``server.hits`` lists the paths requested.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.routes, server.hits = routes, []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port_url():
    """A URL on a port nothing listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
