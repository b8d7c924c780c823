"""What the test shims (sagemaker_shim.py, vertex_shim.py) share: reading a request's body,
whole, whether it is sent with a Content-Length or chunked."""


def read_body(handler):
    """The body of the request `handler` (a BaseHTTPRequestHandler) is serving."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        body = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += handler.rfile.read(size)
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""
