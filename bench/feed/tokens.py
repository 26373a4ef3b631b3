"""bench/feed/tokens.py — log users in, print their access tokens (for bench/feed/run.sh).

    tokens.py URL PASSWORD < usernames > tokens

One POST /api/v2/auth/login per username on stdin, all over one kept-alive
connection to URL (http://127.0.0.1:PORT); prints one access token per line,
in the order of the input. Exits 1 at the first answer that is not 200.
Standard library only.
"""

import http.client
import json
import sys
import urllib.parse


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__.strip())
    url = urllib.parse.urlsplit(argv[0])
    password = argv[1]
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    out = []
    for line in sys.stdin:
        name = line.strip()
        if not name:
            continue
        body = json.dumps({"login": name, "password": password})
        conn.request("POST", "/api/v2/auth/login", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        if r.status != 200:
            sys.exit(f"tokens: login of {name} answered {r.status}: {data[:200]!r}")
        out.append(json.loads(data)["access_token"])
    sys.stdout.write("".join(t + "\n" for t in out))


if __name__ == "__main__":
    main(sys.argv[1:])
