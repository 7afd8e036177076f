#!/usr/bin/env python3
"""Seeds a running Valine over HTTP for the benchmark (stdlib only).

Registers N users, reads their verification mail from the file outbox (.eml, quoted-printable),
verifies them, creates one public profile each, and writes into OUT_DIR:
  token       one user's access token (for GET /auth/me)
  paths       /profiles/<vanityUrl>, one per line
  logins      JSON login bodies for the first 32 users, one per line

Usage: seed.py BASE_URL OUTBOX_DIR COUNT OUT_DIR
"""
import concurrent.futures
import glob
import json
import os
import quopri
import re
import sys
import time
import urllib.request

BASE, OUTBOX, COUNT, OUT = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
assert BASE.startswith("http://127.0.0.1:"), "loopback only"

ROLES = ["actor", "director", "writer", "producer", "editor", "cinematographer"]
CITIES = [("Berlin", "DE"), ("Los Angeles", "US"), ("London", "GB"), ("Lagos", "NG"),
          ("Mumbai", "IN"), ("Toronto", "CA")]
WORDS = ["stage", "screen", "documentary", "comedy", "drama", "voice", "indie", "festival"]


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def password(i):
    return f"Bench-{i}-quiet-harbour!"


def register(i):
    status, body = call("POST", "/auth/register", {
        "email": f"bench{i}@bench.test", "password": password(i),
        "username": f"bench_user_{i}", "displayName": f"Bench Person {i}"})
    assert status == 201, (status, body)
    return i, body["accessToken"]


def main():
    started = time.time()
    pool = concurrent.futures.ThreadPoolExecutor(8)
    tokens = dict(pool.map(register, range(COUNT)))

    # Verification tokens from the file outbox: undo quoted-printable, find the link.
    found = {}
    deadline = time.time() + 120
    while len(found) < COUNT and time.time() < deadline:
        for path in glob.glob(os.path.join(OUTBOX, "*.eml")):
            raw = quopri.decodestring(open(path, "rb").read()).decode(errors="replace")
            to = re.search(r"^To: .*?bench(\d+)@bench\.test", raw, re.M)
            tok = re.search(r"verify-email\?token=([A-Za-z0-9_\-]+)", raw)
            if to and tok:
                found[int(to.group(1))] = tok.group(1)
        if len(found) < COUNT:
            time.sleep(0.5)
    assert len(found) == COUNT, f"only {len(found)} of {COUNT} verification mails arrived"

    def verify_and_profile(i):
        status, body = call("POST", "/auth/verify-email", {"token": found[i]})
        assert status == 200, (status, body)
        role = ROLES[i % len(ROLES)]
        city, country = CITIES[i % len(CITIES)]
        status, body = call("POST", "/profiles", {
            "vanityUrl": f"bench-person-{i}",
            "headline": f"{role.title()} for {WORDS[i % len(WORDS)]} work",
            "title": role.title(),
            "bio": f"Bench profile {i}: {WORDS[(i * 3) % len(WORDS)]} and "
                   f"{WORDS[(i * 5) % len(WORDS)]} projects in {city}.",
            "roles": [role, ROLES[(i + 1) % len(ROLES)]],
            "location": {"city": city, "country": country},
            "tags": [WORDS[i % len(WORDS)], WORDS[(i + 2) % len(WORDS)]],
            "privacy": {"visibility": "public", "showEmail": False, "showPhone": False},
        }, token=tokens[i])
        assert status == 201, (status, body)

    list(pool.map(verify_and_profile, range(COUNT)))
    with open(os.path.join(OUT, "token"), "w") as f:
        f.write(tokens[0] + "\n")
    with open(os.path.join(OUT, "paths"), "w") as f:
        f.writelines(f"/profiles/bench-person-{i}\n" for i in range(COUNT))
    with open(os.path.join(OUT, "logins"), "w") as f:
        f.writelines(json.dumps({"email": f"bench{i}@bench.test", "password": password(i)}) + "\n"
                     for i in range(min(COUNT, 32)))
    print(f"seeded {COUNT} verified users with public profiles in {time.time() - started:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
