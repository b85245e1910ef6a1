#!/usr/bin/env python3
"""Rebuilds the labelled detection corpora in this folder from their public sources.

Not run by the tests or the bench (they read the committed files); kept so that anyone
can check where every line came from and rebuild the set from newer sources:

    python3 tests/corpora/build.py \
        --crs CRS_GIT_DIR --libinjection LIBINJECTION_GIT_DIR \
        --patt PAYLOADSALLTHETHINGS_GIT_DIR \
        --bastioncorpus bastioncorpus-0.6.0-py3-none-any.whl \
        --spikee spikee-0.9.2-py3-none-any.whl

The git directories are clones of coreruleset/coreruleset, libinjection/libinjection and
swisskyrepo/PayloadsAllTheThings (read at HEAD with `git show`); the wheels come from
PyPI (`pip download --no-deps bastioncorpus==0.6.0 spikee==0.9.2`). The benign form
values need `faker` (PyPI, pinned below) and PyYAML.

Every output line is one JSON string: a request target (`/path?query`, as it travels on
the wire) for the web corpora, the prompt text for the prompt corpora.
"""

import argparse
import io
import json
import random
import re
import subprocess
import sys
import urllib.parse
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
FAKER_VERSION = "37.12.0"

# CRS rule families -> Sightline threat classes.
CRS_FAMILIES = {
    "REQUEST-942-APPLICATION-ATTACK-SQLI": "sql_injection",
    "REQUEST-941-APPLICATION-ATTACK-XSS": "xss",
    "REQUEST-930-APPLICATION-ATTACK-LFI": "path_traversal",
    "REQUEST-932-APPLICATION-ATTACK-RCE": "command_injection",
}
# Headers every CRS test sends; a test that sets any other carries its payload there
# (cookies, custom headers), not in the request target, and is left out.
PLAIN_HEADERS = {
    "host", "user-agent", "accept", "content-type", "content-length", "connection",
    "accept-encoding", "accept-language", "accept-charset", "cache-control",
    "keep-alive", "proxy-connection", "pragma", "te",
}
DEFAULT_AGENT = "OWASP CRS test agent"
# Negative tests often hold attacks that another rule catches; those whose description
# calls the input ordinary (a false positive that was fixed) are the benign set.
ORDINARY = re.compile(r"false.?positive|\bFP\b|legit|benign|should not|must not", re.I)


def git_show(repo, path):
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"HEAD:{path}"],
        check=True, capture_output=True,
    ).stdout


def git_show_if_stored(repo, path):
    """A file's content, or None when the snapshot lacks it (large files may be absent)."""
    try:
        return git_show(repo, path)
    except subprocess.CalledProcessError:
        print(f"skipped {path}: not in the snapshot", file=sys.stderr)
        return None


def git_ls(repo, folder):
    out = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", "HEAD", folder],
        check=True, capture_output=True, text=True,
    ).stdout
    return [p for p in out.splitlines() if p]


def git_head(repo):
    return subprocess.run(
        ["git", "-C", str(repo), "describe", "--tags", "--always"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def write(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    seen, kept = set(), []
    for line in lines:
        if line and line not in seen:
            seen.add(line)
            kept.append(line)
    with open(path, "w", encoding="utf-8") as f:
        for line in kept:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{path.relative_to(HERE)}: {len(kept)}", file=sys.stderr)


# --- OWASP CRS regression tests -------------------------------------------------------

def crs_paranoia_levels(repo):
    """Rule id -> paranoia level, from the rule files' `paranoia-level/N` tags."""
    levels = {}
    for path in git_ls(repo, "rules"):
        if not path.endswith(".conf"):
            continue
        text = git_show(repo, path).decode("utf-8", "replace")
        for block in re.split(r"\n(?=Sec(?:Rule|Action) )", text):
            rule_id = re.search(r"\bid:(\d{6})", block)
            level = re.search(r"paranoia-level/(\d)", block)
            if rule_id and level:
                levels[int(rule_id.group(1))] = int(level.group(1))
    return levels


def crs_target(stage_input):
    """The request target of one CRS test stage, or None when its payload is elsewhere
    (a header, a cookie, a JSON/XML/multipart body, a raw request)."""
    if "encoded_request" in stage_input or "raw_request" in stage_input:
        return None
    headers = {k.lower(): str(v) for k, v in (stage_input.get("headers") or {}).items()}
    if set(headers) - PLAIN_HEADERS:
        return None
    if headers.get("user-agent", DEFAULT_AGENT) != DEFAULT_AGENT:
        return None
    uri = str(stage_input.get("uri", "/"))
    data = stage_input.get("data")
    if isinstance(data, list):
        data = "\n".join(str(d) for d in data)
    if data:
        kind = headers.get("content-type", "application/x-www-form-urlencoded").lower()
        if "x-www-form-urlencoded" not in kind:
            return None
        data = str(data).strip("\r\n")
        uri = f"{uri}{'&' if '?' in uri else '?'}{data}"
    path, _, query = uri.partition("?")
    if not query and path in ("/", "/get", "/post", ""):
        return None
    return uri


def crs(repo, max_level):
    levels = crs_paranoia_levels(repo)
    attacks = {c: [] for c in CRS_FAMILIES.values()}
    benign = []
    for family, threat in CRS_FAMILIES.items():
        for path in git_ls(repo, f"tests/regression/tests/{family}"):
            doc = yaml.safe_load(git_show(repo, path))
            rule_id = int(doc["rule_id"])
            if levels.get(rule_id, 1) > max_level:
                continue
            for test in doc.get("tests", []):
                for stage in test.get("stages", []):
                    stage = stage.get("stage", stage)
                    log = (stage.get("output") or {}).get("log") or {}
                    target = crs_target(stage.get("input") or {})
                    if target is None:
                        continue
                    if rule_id in (log.get("expect_ids") or []):
                        attacks[threat].append(target)
                    elif (
                        rule_id in (log.get("no_expect_ids") or [])
                        and not log.get("expect_ids")
                        and ORDINARY.search(str(test.get("desc", "")))
                        # "Known false positive" marks attacks the rule misses.
                        and "known false positive" not in str(test.get("desc", "")).lower()
                    ):
                        benign.append(target)
    return attacks, benign


# --- Payload lists --------------------------------------------------------------------

ESCAPE = re.compile(r"%(?:[0-9a-fA-F]{2}|u[0-9a-fA-F]{4})")


def as_query_value(payload, plus_is_space):
    """A payload as a query-string value: percent-encoded whole, unless it is already
    written in URL form (it has %XX escapes), when only what would split the query is."""
    if ESCAPE.search(payload):
        out = payload.replace(" ", "%20").replace("&", "%26").replace("#", "%23")
        return out if plus_is_space else out.replace("+", "%2B")
    return urllib.parse.quote(payload, safe="")


def payload_lines(raw):
    """The payloads of a list: not its comments (`# …`) nor entries of one or two
    characters (a lone quote or operator is a probe ordinary text holds too)."""
    for line in raw.decode("utf-8", "replace").splitlines():
        line = line.rstrip("\r")
        if len(line.strip()) > 2 and not line.startswith("# "):
            yield line


# The XSS lists of bare event-handler names and of html5sec vectors split over lines
# are vocabularies for fuzzers, not payloads: left out.
PATT_LISTS = {
    "sql_injection": [
        "SQL Injection/Intruder/Auth_Bypass.txt",
        "SQL Injection/Intruder/Auth_Bypass2.txt",
        "SQL Injection/Intruder/FUZZDB_MSSQL-WHERE_Time.txt",
        "SQL Injection/Intruder/FUZZDB_MSSQL.txt",
        "SQL Injection/Intruder/FUZZDB_MSSQL_Enumeration.txt",
        "SQL Injection/Intruder/FUZZDB_MYSQL.txt",
        "SQL Injection/Intruder/FUZZDB_MySQL-WHERE_Time.txt",
        "SQL Injection/Intruder/FUZZDB_MySQL_ReadLocalFiles.txt",
        "SQL Injection/Intruder/FUZZDB_Oracle.txt",
        "SQL Injection/Intruder/FUZZDB_Postgres_Enumeration.txt",
        "SQL Injection/Intruder/Generic_ErrorBased.txt",
        "SQL Injection/Intruder/Generic_TimeBased.txt",
        "SQL Injection/Intruder/Generic_UnionSelect.txt",
        "SQL Injection/Intruder/SQLi_Polyglots.txt",
        "SQL Injection/Intruder/payloads-sql-blind-MSSQL-INSERT",
        "SQL Injection/Intruder/payloads-sql-blind-MSSQL-WHERE",
        "SQL Injection/Intruder/payloads-sql-blind-MySQL-INSERT",
        "SQL Injection/Intruder/payloads-sql-blind-MySQL-ORDER_BY",
        "SQL Injection/Intruder/payloads-sql-blind-MySQL-WHERE",
    ],
    "xss": [
        "XSS Injection/Intruders/BRUTELOGIC-XSS-STRINGS.txt",
        "XSS Injection/Intruders/IntrudersXSS.txt",
        "XSS Injection/Intruders/JHADDIX_XSS.txt",
        "XSS Injection/Intruders/RSNAKE_XSS.txt",
        "XSS Injection/Intruders/XSSDetection.txt",
        "XSS Injection/Intruders/XSS_Polyglots.txt",
        "XSS Injection/Intruders/xss_payloads_quick.txt",
    ],
    "path_traversal": [
        "Directory Traversal/Intruder/directory_traversal.txt",
        "Directory Traversal/Intruder/deep_traversal.txt",
        "File Inclusion/Intruders/JHADDIX_LFI.txt",
        "File Inclusion/Intruders/LFI-WindowsFileCheck.txt",
    ],
    "command_injection": [
        "Command Injection/Intruder/command-execution-unix.txt",
        "Command Injection/Intruder/command_exec.txt",
    ],
}


# A `<` alone, however encoded (XSSDetection.txt lists dozens): a probe, not a payload.
LONE_LT = re.compile(r"^(<|%3c|&lt;?|&#0*60;?|&#x0*3c;?|\\u003c|\\x3c|%u003c)$", re.I)


def patt(repo):
    out = {}
    for threat, paths in PATT_LISTS.items():
        out[threat] = [
            "/search?q=" + as_query_value(p, plus_is_space=False)
            for path in paths
            for p in payload_lines(git_show(repo, path))
            if not LONE_LT.match(p.strip())
        ]
    return out


def libinjection(repo):
    """libinjection's own test data: its SQLi and XSS samples and its false positives.
    Its reader URL-decodes each line, so lines are taken as written in URL form."""
    out = {"sql_injection": [], "xss": []}
    for path in git_ls(repo, "data"):
        name = path.rsplit("/", 1)[-1]
        if name in ("sqli-forums.txt", "sqli-wordpress_rbarnett.txt"):
            continue  # 1.4 MB and 270 kB of scraped pages, mostly duplicates
        threat = (
            "sql_injection" if name.startswith("sqli-")
            else "xss" if name.startswith("xss-")
            else None
        )
        blob = git_show_if_stored(repo, path)
        if threat and blob is not None:
            out[threat] += [
                "/search?q=" + as_query_value(p, plus_is_space=True)
                for p in payload_lines(blob)
            ]
    benign = [
        "/search?q=" + as_query_value(p, plus_is_space=True)
        for p in payload_lines(git_show(repo, "data/false_positives.txt"))
    ]
    return out, benign


# --- Benign form values ---------------------------------------------------------------

LOCALES = [
    "en_US", "en_GB", "en_IE", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR",
    "pl_PL", "sv_SE", "tr_TR", "ru_RU", "ja_JP", "zh_CN", "ko_KR", "hi_IN", "ar_AA",
]
PER_LOCALE = 450


def forms():
    from faker import Faker

    fields = [
        ("name", lambda f: f.name()),
        ("first_name", lambda f: f.first_name()),
        ("last_name", lambda f: f.last_name()),
        ("email", lambda f: f.email()),
        ("address", lambda f: f.address().replace("\n", ", ")),
        ("street", lambda f: f.street_address()),
        ("city", lambda f: f.city()),
        ("postcode", lambda f: f.postcode()),
        ("phone", lambda f: f.phone_number()),
        ("company", lambda f: f.company()),
        ("job", lambda f: f.job()),
        ("username", lambda f: f.user_name()),
        ("website", lambda f: f.url()),
        ("birthday", lambda f: f.date_of_birth().isoformat()),
        ("comment", lambda f: f.sentence(nb_words=12)),
        ("message", lambda f: f.paragraph(nb_sentences=3)),
        ("amount", lambda f: f"{f.pyfloat(left_digits=4, right_digits=2, positive=True)}"),
        ("quantity", lambda f: str(f.random_int(0, 5000))),
        ("iban", lambda f: f.iban()),
        ("user_agent", lambda f: f.user_agent()),
        ("file", lambda f: f.file_path(depth=2, absolute=False)),
        ("title", lambda f: f.catch_phrase()),
    ]
    out = []
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(20_260_000 + i)
        for n in range(PER_LOCALE):
            field, make = fields[n % len(fields)]
            try:
                value = make(fake)
            except AttributeError:  # a provider this locale lacks
                continue
            out.append(f"/v1/forms?{field}={urllib.parse.quote_plus(value)}")
    return out


# --- Prompts --------------------------------------------------------------------------

def wheel_file(wheel, suffix):
    with zipfile.ZipFile(wheel) as z:
        [name] = [n for n in z.namelist() if n.endswith(suffix)]
        return z.read(name).decode("utf-8")


def bastioncorpus(wheel):
    rows = [json.loads(l) for l in io.StringIO(wheel_file(wheel, "corpus/injections.jsonl")) if l.strip()]
    attacks = [r["text"] for r in rows if r["label"] == "malicious"]
    benign = [r["text"] for r in rows if r["label"] == "benign"]
    return attacks, benign


def spikee_benign(wheel):
    out = []
    for suffix in (
        "seeds-investment-advice-fp/standalone_user_inputs.jsonl",
        "seeds-investment-advice/standalone_user_inputs.jsonl",
    ):
        out += [json.loads(l)["text"] for l in io.StringIO(wheel_file(wheel, suffix)) if l.strip()]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crs", required=True)
    ap.add_argument("--libinjection", required=True)
    ap.add_argument("--patt", required=True)
    ap.add_argument("--bastioncorpus", required=True)
    ap.add_argument("--spikee", required=True)
    ap.add_argument("--crs-paranoia-level", type=int, default=1)
    a = ap.parse_args()
    random.seed(20_260_000)

    attacks, benign = crs(a.crs, a.crs_paranoia_level)
    for threat, lines in attacks.items():
        write(HERE / "crs" / f"{threat}.jsonl", lines)
    write(HERE / "crs" / "benign.jsonl", benign)

    for threat, lines in patt(a.patt).items():
        write(HERE / "payloadsallthethings" / f"{threat}.jsonl", lines)

    attacks, benign = libinjection(a.libinjection)
    for threat, lines in attacks.items():
        write(HERE / "libinjection" / f"{threat}.jsonl", lines)
    write(HERE / "libinjection" / "benign.jsonl", benign)

    write(HERE / "forms" / "benign.jsonl", forms())

    attacks, benign = bastioncorpus(a.bastioncorpus)
    write(HERE / "bastioncorpus" / "prompt_injection.jsonl", attacks)
    write(HERE / "bastioncorpus" / "benign_prompt.jsonl", benign)
    write(HERE / "spikee" / "benign_prompt.jsonl", spikee_benign(a.spikee))

    print(
        "sources: crs " + git_head(a.crs) + ", libinjection " + git_head(a.libinjection)
        + ", PayloadsAllTheThings " + git_head(a.patt),
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
