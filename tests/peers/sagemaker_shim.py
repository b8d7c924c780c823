"""A test shim in front of moto's SageMaker, for ferry's SageMaker deployer tests.

    sagemaker_shim.py --listen PORT --moto http://127.0.0.1:MOTOPORT
                      [--creating-polls N] [--failing-image SUBSTRING]

It adds exactly two behaviours that moto 5.2.5 lacks; everything else is moto's own answer,
relayed unchanged (every request, with its method, path, headers including Authorization, and
body, is forwarded to moto):

1. Endpoints that take time. After CreateEndpoint or UpdateEndpoint, DescribeEndpoint reports
   the endpoint `Creating` / `Updating` for the next N describes of it (--creating-polls,
   default 2), then settles. moto makes endpoints InService at once. Part of that same
   transition: when a model behind the endpoint config's variants has an Image containing
   --failing-image, the endpoint settles as real SageMaker does for a container it cannot pull:
   a create ends `Failed`, an update is rolled back (InService on the old config); either way
   with FailureReason "The image '<image>' does not exist or the role lacks permission to pull
   it.".
2. UpdateEndpoint, which moto answers with 500 (not implemented). The shim checks the endpoint
   and the new config exist (asking moto), remembers endpoint -> new config, and once the update
   settles, DescribeEndpoint reports that config and its variants (from moto's
   DescribeEndpointConfig) instead of moto's unchanged record.

Python 3 standard library only. moto is reached with http.client rather than urllib.request:
urllib adds a form Content-Type to a body sent without one, and moto's S3 then stores an empty
object. Prints "sagemaker shim listening on http://127.0.0.1:PORT" when ready (PORT 0 picks a
free one).
"""

import argparse
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shim_http import read_body

# Headers that belong to one connection, not to the request or answer.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}


class Endpoints:
    """What the shim knows about endpoints beyond moto's record, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        # name -> {"kind": "create"|"update", "polls_left": int, "config": new config,
        #          "old": {"config", "variants"} or None, "settled": dict or None}
        self.changes = {}
        # name -> {"config", "variants", "reason"}: what an endpoint serves after a settled
        # update or rollback (moto still has the config it was created with).
        self.serving = {}


def load(body):
    """A JSON object from a body; {} for anything else (moto treats bad JSON as {} too)."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def moto_variants(config_answer):
    """DescribeEndpointConfig's ProductionVariants as DescribeEndpoint shows them (moto leaves out
    falsy values; so does the shim)."""
    out = []
    for v in config_answer.get("ProductionVariants", []):
        live = {"VariantName": v.get("VariantName")}
        weight = v.get("InitialVariantWeight")
        if weight:
            live["CurrentWeight"] = weight
            live["DesiredWeight"] = weight
        count = v.get("InitialInstanceCount")
        if count:
            live["CurrentInstanceCount"] = count
            live["DesiredInstanceCount"] = count
        out.append(live)
    return out


def make_handler(moto, polls, failing_image, state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet: the tests read their own output
            pass

        # --- plumbing -------------------------------------------------------------------

        def forward(self, body, target=None):
            """Sends this request (or the same request with another X-Amz-Target and body) to
            moto: (status, [(header, value)], body)."""
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
            if target is not None:
                headers = [(k, v) for k, v in headers if k.lower() != "x-amz-target"]
                headers.append(("X-Amz-Target", target))
            connection = http.client.HTTPConnection(moto.hostname, moto.port, timeout=60)
            try:
                connection.request(
                    self.command, self.path, body=body or None, headers=dict(headers)
                )
                answer = connection.getresponse()
                return answer.status, answer.getheaders(), answer.read()
            finally:
                connection.close()

        def ask(self, operation, payload):
            """One SageMaker call to moto with this request's Authorization (moto routes on its
            credential scope: service and region): (status, JSON)."""
            status, _, body = self.forward(
                json.dumps(payload).encode(), target="SageMaker." + operation
            )
            return status, load(body)

        def reply(self, status, headers, body):
            self.send_response(status)
            for k, v in headers:
                if k.lower() not in HOP_BY_HOP | {"date", "server"}:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def reply_json(self, status, payload):
            headers = [("Content-Type", "application/x-amz-json-1.1")]
            self.reply(status, headers, json.dumps(payload).encode())

        def handle_any(self):
            body = read_body(self)
            target = self.headers.get("X-Amz-Target", "")
            operation = target[len("SageMaker."):] if target.startswith("SageMaker.") else None
            if operation == "UpdateEndpoint":
                return self.update_endpoint(body)
            status, headers, answer = self.forward(body)
            if operation and 200 <= status < 300:
                payload = load(body)
                name = payload.get("EndpointName")
                if operation == "CreateEndpoint":
                    with state.lock:
                        state.serving.pop(name, None)
                        state.changes[name] = {
                            "kind": "create",
                            "polls_left": polls,
                            "config": payload.get("EndpointConfigName"),
                            "old": None,
                            "settled": None,
                        }
                elif operation == "DeleteEndpoint":
                    with state.lock:
                        state.changes.pop(name, None)
                        state.serving.pop(name, None)
                elif operation == "DescribeEndpoint":
                    answer = json.dumps(self.describe(name, load(answer))).encode()
            self.reply(status, headers, answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any

        # --- behaviour 2: UpdateEndpoint --------------------------------------------------

        def update_endpoint(self, body):
            payload = load(body)
            name, config = payload.get("EndpointName"), payload.get("EndpointConfigName")
            status, endpoint = self.ask("DescribeEndpoint", {"EndpointName": name})
            if status != 200:
                return self.reply_json(status, endpoint)
            status, answer = self.ask("DescribeEndpointConfig", {"EndpointConfigName": config})
            if status != 200:
                return self.reply_json(status, answer)
            with state.lock:
                current = state.serving.get(name) or {
                    "config": endpoint.get("EndpointConfigName"),
                    "variants": endpoint.get("ProductionVariants", []),
                }
                state.changes[name] = {
                    "kind": "update",
                    "polls_left": polls,
                    "config": config,
                    "old": {"config": current["config"], "variants": current["variants"]},
                    "settled": None,
                }
            self.reply_json(200, {"EndpointArn": endpoint.get("EndpointArn")})

        # --- behaviour 1: endpoints that take time (and may fail) ---------------------------

        def failing_image(self, config):
            """The first image of the config's models that contains --failing-image, if any."""
            if not failing_image:
                return None
            _, answer = self.ask("DescribeEndpointConfig", {"EndpointConfigName": config})
            for variant in answer.get("ProductionVariants", []):
                status, model = self.ask("DescribeModel", {"ModelName": variant.get("ModelName")})
                if status != 200:
                    continue
                image = (model.get("PrimaryContainer") or {}).get("Image", "")
                if failing_image in image:
                    return image
            return None

        def settle(self, name, change):
            """Where a create or update ends: decided once, when its polls run out."""
            image = self.failing_image(change["config"])
            reason = None
            if image is not None:
                reason = (
                    f"The image '{image}' does not exist or the role lacks permission to pull it."
                )
            if change["kind"] == "create":
                return {"status": "Failed" if reason else "InService", "reason": reason}
            if reason:  # a rollback: back in service on the old config
                return {"status": "InService", "reason": reason, **change["old"]}
            _, answer = self.ask(
                "DescribeEndpointConfig", {"EndpointConfigName": change["config"]}
            )
            return {
                "status": "InService",
                "reason": None,
                "config": change["config"],
                "variants": moto_variants(answer),
            }

        def describe(self, name, answer):
            with state.lock:
                change = state.changes.get(name)
                if change is not None and change["polls_left"] > 0:
                    change["polls_left"] -= 1
                    creating = change["kind"] == "create"
                    answer["EndpointStatus"] = "Creating" if creating else "Updating"
                    if change["old"]:
                        answer["EndpointConfigName"] = change["old"]["config"]
                        answer["ProductionVariants"] = change["old"]["variants"]
                    return answer
                settle = change is not None and change["settled"] is None
            if settle:
                # Asking moto outside the lock; a concurrent describe may settle it too, with
                # the same result.
                settled = self.settle(name, change)
                with state.lock:
                    if state.changes.get(name) is change and change["settled"] is None:
                        change["settled"] = settled
                        if "config" in settled:
                            state.serving[name] = {
                                "config": settled["config"],
                                "variants": settled["variants"],
                            }
            with state.lock:
                change = state.changes.get(name)
                settled = change and change["settled"]
                serving = state.serving.get(name)
            if serving:
                answer["EndpointConfigName"] = serving["config"]
                answer["ProductionVariants"] = serving["variants"]
            if settled:
                answer["EndpointStatus"] = settled["status"]
                if settled["reason"]:
                    answer["FailureReason"] = settled["reason"]
            return answer

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--listen", type=int, required=True, help="port on 127.0.0.1 (0: any free)"
    )
    parser.add_argument("--moto", required=True, help="moto's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--creating-polls", type=int, default=2)
    parser.add_argument("--failing-image", default=None)
    args = parser.parse_args()
    handler = make_handler(
        urllib.parse.urlsplit(args.moto), args.creating_polls, args.failing_image, Endpoints()
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.listen), handler)
    server.daemon_threads = True
    print(f"sagemaker shim listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
