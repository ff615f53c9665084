#!/usr/bin/env python3
"""Checks a running dispatcher against docs/openapi.yaml: what it serves is what the document says.

Usage: deploy/tests/check_openapi_live.py BASE_URL   (from the repository root; a dispatcher without an API key,
with at least one ready worker on a fast model; tests/openapi_e2e_test.cc starts one)

- GET /openapi.yaml returns docs/openapi.yaml byte for byte.
- Real requests exercise every documented operation, good and bad: each answer's status is one the operation
  documents, its Content-Type is one of that response's media types, and a JSON body (or each event of a
  server-sent event stream) validates against the response's schema (OpenAPI 3.0 schemas, `nullable` included,
  checked by the jsonschema package as JSON Schema draft 4).
- Every documented operation was answered by its route at least once (never by the plain-text 404 of a path the
  server does not know).
Exits 1 with each problem on stderr. Needs python3-yaml and python3-jsonschema; with ffmpeg on PATH a short
generated clip also goes through a video job.
"""
import copy
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zlib

import jsonschema
import yaml

DOC = "docs/openapi.yaml"


def png(width, height):
    """A small RGB PNG with a gradient, encoded here so the check needs no imaging library."""
    rows = b"".join(b"\0" + bytes((x * 7 + y * 3) % 256 for x in range(width) for _ in range(3)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def multipart(files):
    """A multipart/form-data body of (field, filename, content type, bytes) parts, and its Content-Type."""
    boundary = uuid.uuid4().hex
    body = b""
    for field, filename, content_type, data in files:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
                 f"Content-Type: {content_type}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def to_json_schema(node):
    """OpenAPI 3.0 schema objects as JSON Schema: `nullable: true` becomes a null type (and a null enum member)."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = out["enum"] + [None]
    return out


class Checker:
    def __init__(self, base_url, doc):
        self.base_url = base_url.rstrip("/")
        self.doc = doc
        self.schema_root = to_json_schema(copy.deepcopy(doc))
        self.resolver = jsonschema.RefResolver.from_schema(self.schema_root)
        self.problems = []
        self.answered = {}  # (method, path template) -> set of statuses seen

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            node = self.resolver.resolve(node["$ref"])[1]
        return node

    def call(self, method, template, path=None, body=None, content_type=None, headers=None, stream=False):
        """Sends one request; checks the answer against `method` `template` of the document. Returns
        (status, headers, body bytes)."""
        request = urllib.request.Request(self.base_url + (path or template), data=body, method=method.upper())
        if content_type:
            request.add_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, reply_headers, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, data = error.code, error.headers, error.read()
        self.check(method, template, status, reply_headers.get("Content-Type", ""), data, stream)
        return status, reply_headers, data

    def check(self, method, template, status, content_type, data, stream):
        where = f"{method.upper()} {template} -> {status}"
        operation = self.doc["paths"].get(template, {}).get(method)
        if operation is None:
            self.problems.append(f"{where}: the document has no such operation")
            return
        self.answered.setdefault((method, template), set()).add(status)
        response = operation["responses"].get(str(status)) or operation["responses"].get("default")
        if response is None:
            self.problems.append(f"{where}: status not documented ({data[:200]!r})")
            return
        content = self.resolve(response).get("content", {})
        media_type = content_type.split(";")[0].strip().lower()
        if not content:
            return
        if media_type not in content:
            self.problems.append(f"{where}: Content-Type {content_type!r} is not one of {sorted(content)}")
            return
        schema = content[media_type].get("schema", {})
        if media_type == "application/json":
            self.validate(where, schema, data)
        elif media_type == "text/event-stream" and stream:
            self.check_events(where, data)

    def validate(self, where, schema, data):
        try:
            value = json.loads(data)
        except ValueError as error:
            self.problems.append(f"{where}: not JSON ({error}): {data[:200]!r}")
            return
        validator = jsonschema.Draft4Validator(to_json_schema(schema), resolver=self.resolver)
        for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path)):
            at = "/".join(str(p) for p in error.path) or "(body)"
            self.problems.append(f"{where}: {at}: {error.message[:300]}")

    def check_events(self, where, data):
        """Each `data:` line of the stream is a Job; the stream ends with a finished one."""
        jobs = [line[5:].strip() for line in data.decode().splitlines() if line.startswith("data:")]
        if not jobs:
            self.problems.append(f"{where}: no events")
        for job in jobs:
            self.validate(where + " (event)", {"$ref": "#/components/schemas/Job"}, job.encode())
        if jobs and json.loads(jobs[-1]).get("status") not in ("succeeded", "failed", "cancelled"):
            self.problems.append(f"{where}: the stream ended before the job did")

    def coverage(self):
        for template, item in self.doc["paths"].items():
            for method in ("get", "put", "post", "delete", "patch"):
                if method in item and (method, template) not in self.answered:
                    self.problems.append(f"{method.upper()} {template}: never exercised")


def wait_for_job(checker, job_id, seconds=120):
    """Polls GET /jobs/{id} until the job ends; its last JSON."""
    give_up = time.monotonic() + seconds
    while True:
        _, _, data = checker.call("get", "/jobs/{id}", f"/jobs/{job_id}")
        job = json.loads(data)
        if job.get("status") in ("succeeded", "failed", "cancelled") or time.monotonic() > give_up:
            return job
        time.sleep(0.2)


def exercise_status(c):
    for path in ("/health", "/health/live", "/health/ready", "/info", "/stats", "/metrics"):
        c.call("get", path)
    _, _, served = c.call("get", "/openapi.yaml")
    with open(DOC, "rb") as f:
        if served != f.read():
            c.problems.append("GET /openapi.yaml: not docs/openapi.yaml byte for byte")


def exercise_console(c):
    _, headers, _ = c.call("get", "/")
    c.call("get", "/", headers={"If-None-Match": headers.get("ETag", "")})
    c.call("get", "/ui/{file}", "/ui/console.css")
    c.call("get", "/ui/{file}", "/ui/no-such-file.css")
    c.call("get", "/ui/js/{file}", "/ui/js/main.js")
    c.call("get", "/ui/js/{file}", "/ui/js/no-such-module.js")


def exercise_upscale(c, image):
    c.call("post", "/upscale", "/upscale?upscale=2&process_size=64", image, "image/png")
    c.call("post", "/upscale", "/upscale?upscale=2&format=jpeg", image, "image/png")
    c.call("post", "/upscale", "/upscale?upscale=7", image, "image/png")
    c.call("post", "/upscale", "/upscale", b"words", "text/plain")
    c.call("post", "/upscale", "/upscale", b"\x89PNG\r\n\x1a\n truncated", "image/png")
    body, content_type = multipart([("files", "a.png", "image/png", image), ("files", "b.txt", "text/plain", b"no")])
    c.call("post", "/upscale_batch", "/upscale_batch?upscale=2", body, content_type)
    c.call("post", "/upscale_batch", "/upscale_batch", b"not multipart", "text/plain")


def exercise_jobs(c, image):
    status, headers, data = c.call("post", "/jobs", "/jobs?upscale=2", image, "image/png")
    if status != 202:
        c.problems.append(f"POST /jobs: {status}, expected 202")
        return
    job_id = json.loads(data)["id"]
    c.call("get", "/jobs/{id}/events", f"/jobs/{job_id}/events", stream=True)
    if wait_for_job(c, job_id).get("status") != "succeeded":
        c.problems.append(f"job {job_id} did not succeed")
    c.call("get", "/jobs/{id}/result", f"/jobs/{job_id}/result")
    c.call("delete", "/jobs/{id}", f"/jobs/{job_id}")  # finished: 409
    unknown = "0" * 32
    for template in ("/jobs/{id}", "/jobs/{id}/result", "/jobs/{id}/events"):
        c.call("get", template, template.replace("{id}", unknown))
    c.call("delete", "/jobs/{id}", f"/jobs/{unknown}")
    key = {"Idempotency-Key": uuid.uuid4().hex}
    c.call("post", "/jobs", "/jobs?upscale=2", image, "image/png", key)
    c.call("post", "/jobs", "/jobs?upscale=2", image, "image/png", key)  # replayed
    c.call("post", "/jobs", "/jobs?upscale=4", image, "image/png", key)  # the key with another request: 409
    c.call("post", "/jobs", "/jobs?codec=vp9", image, "image/png")
    c.call("post", "/jobs", "/jobs", b"words", "text/plain")
    status, _, data = c.call("post", "/jobs", "/jobs?upscale=2&priority=1", image, "image/png")
    if status == 202:
        c.call("delete", "/jobs/{id}", f"/jobs/{json.loads(data)['id']}")  # 200, or 409 when it finished first
    c.call("get", "/jobs", "/jobs?limit=2")
    c.call("get", "/jobs", "/jobs?status=succeeded&limit=1000")
    c.call("get", "/jobs", "/jobs?limit=0")


def exercise_video(c):
    """A 1 s clip through a video job, when Debian's ffmpeg is there to make one."""
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.mp4")
        made = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
                               "-pix_fmt", "yuv420p", "-c:v", "libx264", clip], check=False)
        if made.returncode != 0:
            c.problems.append("ffmpeg could not make the test clip")
            return
        with open(clip, "rb") as f:
            video = f.read()
    status, _, data = c.call("post", "/jobs", "/jobs?upscale=2&codec=h264&crf=30&preset=ultrafast", video, "video/mp4")
    if status != 202:
        c.problems.append(f"POST /jobs (video): {status}, expected 202")
        return
    job_id = json.loads(data)["id"]
    c.call("get", "/jobs/{id}/result", f"/jobs/{job_id}/result")  # most likely 409, not done yet
    if wait_for_job(c, job_id).get("status") != "succeeded":
        c.problems.append(f"video job {job_id} did not succeed")
    c.call("get", "/jobs/{id}", f"/jobs/{job_id}")
    c.call("get", "/jobs/{id}/result", f"/jobs/{job_id}/result")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(DOC, encoding="utf-8") as f:
        checker = Checker(sys.argv[1], yaml.safe_load(f))
    image = png(40, 30)
    exercise_status(checker)
    exercise_console(checker)
    exercise_upscale(checker, image)
    exercise_jobs(checker, image)
    if subprocess.run(["sh", "-c", "command -v ffmpeg"], capture_output=True, check=False).returncode == 0:
        exercise_video(checker)
    checker.coverage()
    for problem in checker.problems:
        print(f"check_openapi_live: {problem}", file=sys.stderr)
    answers = sum(len(statuses) for statuses in checker.answered.values())
    for (method, template), statuses in sorted(checker.answered.items()):
        print(f"check_openapi_live: {method.upper()} {template}: {sorted(statuses)}")
    print(f"check_openapi_live: {len(checker.answered)} operations, {answers} (operation, status) pairs checked, "
          f"{len(checker.problems)} problems")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
