"""bench/feed/feedcheck.py — checks feed pages for bench/feed/run.sh (standard library only).

    feedcheck.py page FILE LIMIT [--reasons]
        FILE must be a feed page {"items": [post...], "next_cursor": ...} with
        exactly LIMIT items, each with an id, an author and (--reasons) a
        non-empty "reasons" list. Prints "<items> items, <bytes> bytes".
    feedcheck.py compare COSMIV_FILE PEER_FILE
        Both pages must list the same post ids in the same order (exit 2
        otherwise). Prints one line naming the fields whose keys or values
        differ (signed URLs are compared without their signature).
Exit status 1 on a malformed page, with the reason on stderr.
"""

import json
import re
import sys


def die(msg, code=1):
    print(f"feedcheck: {msg}", file=sys.stderr)
    sys.exit(code)


def load_page(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        page = json.loads(raw)
    except (OSError, ValueError) as e:
        die(f"{path}: not JSON ({e})")
    if not isinstance(page, dict) or not isinstance(page.get("items"), list) or "next_cursor" not in page:
        die(f"{path}: not a feed page (want {{items: [...], next_cursor}}): {raw[:200]!r}")
    for i, it in enumerate(page["items"]):
        if not isinstance(it, dict) or not isinstance(it.get("id"), str) or not isinstance(it.get("author"), dict):
            die(f"{path}: item {i} is not a post: {json.dumps(it)[:200]}")
    return page, len(raw)


SIG = re.compile(r"([?&]sig=)[A-Za-z0-9_-]+")


def flatten(v, prefix, out):
    if isinstance(v, dict):
        out[(prefix or "post") + " key order"] = list(v.keys())  # compared when the keys are the same
        for k, x in v.items():
            flatten(x, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(v, str):
        out[prefix] = SIG.sub(r"\1…", v)
    else:
        out[prefix] = v


def cmd_page(path, limit, reasons):
    page, size = load_page(path)
    items = page["items"]
    if len(items) != limit:
        die(f"{path}: {len(items)} items, expected {limit}")
    if page["next_cursor"] is None:
        die(f"{path}: next_cursor is null on a full first page")
    if reasons:
        bad = [it["id"] for it in items if not isinstance(it.get("reasons"), list) or not it["reasons"]]
        if bad:
            die(f"{path}: {len(bad)} items without reasons (first: {bad[0]})")
    print(f"{len(items)} items, {size} bytes")


def cmd_compare(a_path, b_path):
    a, _ = load_page(a_path)
    b, _ = load_page(b_path)
    ida = [it["id"] for it in a["items"]]
    idb = [it["id"] for it in b["items"]]
    if ida != idb:
        first = next((i for i, (x, y) in enumerate(zip(ida, idb)) if x != y), min(len(ida), len(idb)))
        die(f"different posts: {len(ida)} vs {len(idb)} items, first difference at index {first} "
            f"({ida[first] if first < len(ida) else '-'} vs {idb[first] if first < len(idb) else '-'})", 2)
    diffs = {}
    for x, y in zip(a["items"], b["items"]):
        fx, fy = {}, {}
        flatten(x, "", fx)
        flatten(y, "", fy)
        for k in sorted(set(fx) | set(fy)):
            if k not in fx:
                diffs.setdefault(f"{k} (only in the peer)", 0)
                diffs[f"{k} (only in the peer)"] += 1
            elif k not in fy:
                diffs.setdefault(f"{k} (only in cosmiv)", 0)
                diffs[f"{k} (only in cosmiv)"] += 1
            elif k.endswith(" key order"):
                if fx[k] != fy[k] and set(fx[k]) == set(fy[k]):
                    diffs[k] = diffs.get(k, 0) + 1
            elif fx[k] != fy[k] or type(fx[k]) is not type(fy[k]):
                diffs[k] = diffs.get(k, 0) + 1
    n = len(ida)
    if not diffs:
        print(f"same {n} posts in the same order, same fields and values")
    else:
        d = ", ".join(f"{k} ({c}/{n})" for k, c in sorted(diffs.items()))
        print(f"same {n} posts in the same order; fields that differ: {d}")


def main(argv):
    if len(argv) >= 3 and argv[0] == "page":
        cmd_page(argv[1], int(argv[2]), "--reasons" in argv[3:])
    elif len(argv) == 3 and argv[0] == "compare":
        cmd_compare(argv[1], argv[2])
    else:
        die(__doc__.strip())


if __name__ == "__main__":
    main(sys.argv[1:])
