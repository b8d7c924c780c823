"""A proxy in front of drongo (the Vertex AI mock) that makes its long-running operations
behave like Vertex AI's, so that a client's polling loop and failure handling are exercised.

    vertex_shim.py --listen PORT --drongo http://127.0.0.1:DPORT
                   [--pending-polls N] [--exhausted-machine-type TYPE]

Every request is forwarded to drongo and its answer relayed (status, body, Content-Type),
except for what this adds on top of drongo, and nothing else:

1. Operations take polls. drongo answers every long-running operation already done. An answer
   that is an operation (a JSON object with `name` containing `/operations/` and a `done`
   key) is kept, and the client gets `{"name": op, "done": false, "metadata": {...}}`
   instead. `GET /v1/{op name}` then answers `done: false` (with the metadata) for the next
   N polls (default 2), and from then on drongo's kept `done: true` answer with its
   `response`. (Unproxied, drongo's operation GET is shadowed by its Document AI route and
   answers `done: true` with no `response` for any name; operations the shim does not know
   are still forwarded there.)
2. Quota failures. A `:deployModel` whose `deployedModel.dedicatedResources.machineSpec.
   machineType` equals `--exhausted-machine-type` ends, when its polls are done, as
   `done: true` with `error: {"code": 8, "message": "The following quota metrics exceed quota
   limits: aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type
   (RESOURCE_EXHAUSTED)"}`, and the deploy is undone on drongo at once (undeployed there,
   the endpoint's earlier traffic split put back), so that drongo's state matches a deploy
   that never happened.

The shim does not rewrite a deploy's `"0"` traffic key to the new model's id (Vertex AI does;
drongo does not); clients see drongo's split as it is.

Python 3 standard library only.
"""

import argparse
import copy
import json
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shim_http import read_body

QUOTA_MESSAGE = (
    "The following quota metrics exceed quota limits: "
    "aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type (RESOURCE_EXHAUSTED)"
)
OPERATION_PATH = re.compile(r"/v1/(projects/[^/]+/locations/[^/]+/(?:.+/)?operations/[^/]+)")
METADATA_TYPES = {
    "models:upload": "UploadModelOperationMetadata",
    ":deployModel": "DeployModelOperationMetadata",
    ":undeployModel": "UndeployModelOperationMetadata",
}


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Shim:
    def __init__(self, drongo, pending_polls, exhausted_machine_type):
        self.drongo = drongo.rstrip("/")
        self.pending_polls = pending_polls
        self.exhausted = exhausted_machine_type
        self.lock = threading.Lock()
        # operation name -> {"polls_left": int, "final": dict, "metadata": dict}
        self.operations = {}

    def forward(self, method, path, body=None, content_type="application/json"):
        """drongo's (status, content type, body bytes) for one request."""
        headers = {"content-type": content_type} if body is not None else {}
        request = urllib.request.Request(self.drongo + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, response.headers.get("content-type", "application/json"), response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("content-type", "application/json"), e.read()

    def forward_json(self, method, path, value=None):
        body = None if value is None else json.dumps(value).encode()
        status, _, raw = self.forward(method, path, body)
        return status, parse(raw)

    def handle(self, method, path, body, content_type):
        """The (status, content type, body bytes) to answer."""
        route = urllib.parse.urlsplit(path)
        operation = OPERATION_PATH.fullmatch(route.path)
        if method == "GET" and operation:
            answer = self.poll(operation.group(1))
            if answer is not None:
                return json_answer(200, answer)
        request = parse(body) if body else {}
        failing = (
            method == "POST"
            and route.path.endswith(":deployModel")
            and self.exhausted is not None
            and machine_type(request) == self.exhausted
        )
        previous_split = None
        if failing:
            _, endpoint = self.forward_json("GET", route.path[: -len(":deployModel")])
            previous_split = (endpoint or {}).get("trafficSplit", {})
        status, answer_type, raw = self.forward(method, path, body if body else None, content_type or "application/json")
        answer = parse(raw)
        # Only calls that start work answer operations; a GET of one is relayed as it is.
        if method == "GET" or not is_operation(answer):
            return status, answer_type, raw
        final = answer
        if failing:
            deployed = (answer.get("response") or {}).get("deployedModel", {}).get("id")
            endpoint_path = route.path[: -len(":deployModel")]
            self.forward_json("POST", endpoint_path + ":undeployModel",
                              {"deployedModelId": deployed, "trafficSplit": previous_split})
            final = {"name": answer["name"], "done": True, "error": {"code": 8, "message": QUOTA_MESSAGE}}
        metadata = {
            "@type": "type.googleapis.com/google.cloud.aiplatform.v1." + metadata_type(route.path, method),
            "genericMetadata": {"createTime": now(), "updateTime": now()},
        }
        final = dict(final, metadata=metadata)
        with self.lock:
            self.operations[answer["name"]] = {"polls_left": self.pending_polls, "final": final, "metadata": metadata}
        return json_answer(status, {"name": answer["name"], "done": False, "metadata": metadata})

    def poll(self, name):
        """The answer to a poll of an operation the shim holds, or None to forward it."""
        with self.lock:
            held = self.operations.get(name)
            if held is None:
                return None
            if held["polls_left"] > 0:
                held["polls_left"] -= 1
                metadata = dict(held["metadata"], genericMetadata=dict(held["metadata"]["genericMetadata"], updateTime=now()))
                return {"name": name, "done": False, "metadata": metadata}
            return copy.deepcopy(held["final"])


def parse(raw):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def is_operation(answer):
    return isinstance(answer, dict) and "done" in answer and "/operations/" in str(answer.get("name", ""))


def machine_type(request):
    try:
        return request["deployedModel"]["dedicatedResources"]["machineSpec"]["machineType"]
    except (KeyError, TypeError):
        return None


def metadata_type(path, method):
    for suffix, name in METADATA_TYPES.items():
        if path.endswith(suffix):
            return name
    if method == "DELETE":
        return "DeleteOperationMetadata"
    if path.endswith("/endpoints"):
        return "CreateEndpointOperationMetadata"
    return "GenericOperationMetadata"


def json_answer(status, value):
    return status, "application/json", json.dumps(value).encode()


def make_handler(shim):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def serve(self):
            body = read_body(self)
            try:
                status, content_type, answer = shim.handle(self.command, self.path, body, self.headers.get("content-type"))
            except (urllib.error.URLError, ConnectionError) as e:
                status, content_type, answer = json_answer(502, {"error": {"code": 502, "message": f"vertex shim: drongo unreachable: {e}", "status": "UNAVAILABLE"}})
            except Exception as e:  # a shim bug: answer it rather than drop the connection
                status, content_type, answer = json_answer(500, {"error": {"code": 500, "message": f"vertex shim: {e!r}", "status": "INTERNAL"}})
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = serve

        def log_message(self, format, *args):
            sys.stderr.write("vertex-shim: " + (format % args) + "\n")

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", type=int, required=True, help="port to listen on (127.0.0.1)")
    parser.add_argument("--drongo", required=True, help="drongo's base URL, e.g. http://127.0.0.1:18090")
    parser.add_argument("--pending-polls", type=int, default=2, help="polls answered done:false per operation")
    parser.add_argument("--exhausted-machine-type", help="deployModel on this machine type fails with RESOURCE_EXHAUSTED")
    args = parser.parse_args()
    shim = Shim(args.drongo, max(args.pending_polls, 0), args.exhausted_machine_type)
    server = ThreadingHTTPServer(("127.0.0.1", args.listen), make_handler(shim))
    print(f"vertex shim listening on http://127.0.0.1:{args.listen}, in front of {shim.drongo}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
