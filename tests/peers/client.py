"""Puts and deletes objects on the test peers, as a user's other tools would.

    client.py s3-put ENDPOINT BUCKET DIR [PREFIX]   upload every file under DIR (creates the bucket)
    client.py s3-delete ENDPOINT BUCKET KEY
    client.py gcs-put ENDPOINT BUCKET DIR [PREFIX]  (fake-gcs-server: no auth)
    client.py gcs-delete ENDPOINT BUCKET KEY

S3 requests are signed with the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

import json
import os
import sys
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def files(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            yield path, os.path.relpath(path, root).replace(os.sep, "/")


def s3(endpoint):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def s3_put(endpoint, bucket, root, prefix=""):
    client = s3(endpoint)
    try:
        client.create_bucket(Bucket=bucket)
    except client.exceptions.BucketAlreadyOwnedByYou:
        pass
    except client.exceptions.BucketAlreadyExists:
        pass
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda f: client.upload_file(f[0], bucket, prefix + f[1]), files(root)))


def gcs_request(method, url, body=None, content_type="application/json"):
    req = urllib.request.Request(url, data=body, method=method, headers={"content-type": content_type})
    with urllib.request.urlopen(req) as resp:
        return resp.read()


def gcs_put(endpoint, bucket, root, prefix=""):
    try:
        gcs_request("POST", f"{endpoint}/storage/v1/b", json.dumps({"name": bucket}).encode())
    except urllib.error.HTTPError as e:
        if e.code != 409:
            raise

    def put(f):
        name = urllib.parse.quote(prefix + f[1], safe="")
        with open(f[0], "rb") as fh:
            data = fh.read()
        gcs_request(
            "POST",
            f"{endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}",
            data,
            "application/octet-stream",
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, files(root)))


def main(argv):
    cmd, endpoint, bucket, arg = argv[1], argv[2], argv[3], argv[4]
    prefix = argv[5] if len(argv) > 5 else ""
    if cmd == "s3-put":
        s3_put(endpoint, bucket, arg, prefix)
    elif cmd == "s3-delete":
        s3(endpoint).delete_object(Bucket=bucket, Key=arg)
    elif cmd == "gcs-put":
        gcs_put(endpoint, bucket, arg, prefix)
    elif cmd == "gcs-delete":
        name = urllib.parse.quote(arg, safe="")
        gcs_request("DELETE", f"{endpoint}/storage/v1/b/{bucket}/o/{name}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
