"""The source keeps out what ASVS forbids, so that a change cannot bring it back quietly.

Each test walks the code (Python by its syntax tree, the browser's scripts as text) and
names the file and line of anything new: a shell, an eval, SQL built from values, TLS
checks turned off, a cipher other than AES-GCM, a hash weaker than SHA-256, a template
built from a string, an XML parser, a secret from `random`, data kept in the browser.
Where the code has a good reason for an exception, it is listed here with the reason.
`docs/security/asvs.md` cites these tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sorted(p for top in ("appliance", "webui", "tui") for p in (ROOT / top).rglob("*.py"))
SCRIPTS = sorted((ROOT / "webui" / "static" / "js").rglob("*.js"))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@lru_cache(maxsize=1)
def _all_nodes() -> tuple[tuple[str, ast.AST], ...]:
    return tuple((rel(path), node) for path in PYTHON
                 for node in ast.walk(ast.parse(path.read_text(), str(path))))


def nodes() -> Iterator[tuple[str, ast.AST]]:
    return iter(_all_nodes())


def calls() -> Iterator[tuple[str, ast.Call, str]]:
    """Every call with its dotted name as written (`subprocess.run`, `db.execute_sql`)."""
    for where, node in nodes():
        if isinstance(node, ast.Call):
            yield where, node, ast.unparse(node.func)


def imported(where_node: ast.AST) -> set[str]:
    if isinstance(where_node, ast.Import):
        return {alias.name for alias in where_node.names}
    if isinstance(where_node, ast.ImportFrom) and where_node.module and where_node.level == 0:
        return {where_node.module} | {f"{where_node.module}.{a.name}" for a in where_node.names}
    return set()


def test_no_process_is_started_through_a_shell():
    found = []
    for where, call, name in calls():
        if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and not k.value.value)
               for k in call.keywords):
            found.append(f"{where}:{call.lineno} {name}(shell=...)")
        if name in {"os.system", "os.popen", "subprocess.getoutput",
                    "subprocess.getstatusoutput", "os.execl", "os.execlp", "os.spawnl"}:
            found.append(f"{where}:{call.lineno} {name}")
    assert found == [], "start processes with an argument list, never through a shell"


def test_nothing_evaluates_code_or_unpickles_data():
    risky_modules = {"pickle", "cPickle", "marshal", "shelve", "dill", "yaml", "jsonpickle"}
    found = [f"{where}:{node.lineno} import {', '.join(sorted(names))}"
             for where, node in nodes()
             if (names := {n.split(".")[0] for n in imported(node)} & risky_modules)]
    found += [f"{where}:{call.lineno} {name}()" for where, call, name in calls()
              if name in {"eval", "exec", "compile", "__import__"}]
    assert found == [], "data is JSON, read with json; code is never built at run time"


# Raw SQL, outside peewee's parameterised queries: what its text may be built from.
# Everything else a statement carries travels as a `?` parameter.
SQL_PIECES = {
    ("appliance/store/customer_data.py", "entry.table"),  # a table of the code's own list
    ("appliance/store/customer_data.py", "assignments"),  # "col = ?" for that table's columns
    ("appliance/store/customer_data.py", "table"),  # the registry's links to the customer
    ("appliance/store/customer_data.py", "column"),
    ("appliance/store/bulk_reads.py", "_marks(len(chunk))"),  # "?,?,?": placeholders only
    ("appliance/store/bulk_reads.py", "marks"),
    ("appliance/store/bulk.py", "table"),  # one of the module's own table names
    ("appliance/store/automation.py", "_marks(message_ids)"),  # "?,?,?": placeholders only
    ("appliance/store/automation.py", "_marks(customer_ids)"),
    ("appliance/store/automation.py", "_marks(conversation_ids)"),
    ("appliance/store/automation.py", "_marks(ids)"),
    ("appliance/store/automation.py", "after"),  # a constant clause, or none
    ("appliance/store/broadcast.py", "_marks(ids)"),
    ("appliance/store/broadcast.py", "_marks(chunk)"),
    ("appliance/store/broadcast.py", "_marks(customer_ids)"),
    ("appliance/store/broadcast.py", "column"),  # one of four column names of the code
    ("appliance/store/broadcast.py", "only"),  # a constant clause with placeholders, or none
    ("appliance/keys/db_rekey.py", "key.hex()"),  # SQLCipher takes its key in the text
    ("appliance/store/backup.py", "key.hex()"),
    ("appliance/store/backup.py", "database_key.hex()"),
    ("appliance/store/backup.py", "marks"),  # "?,?,?": placeholders only
    ("appliance/store/customer_data.py", "marks"),
    ("appliance/store/db.py", "key.hex()"),
    ("appliance/store/db.py", "key"),  # the x'...' form of a key, made just above
    ("appliance/store/db.py", "name"),  # PRAGMAS, the module's own constant
    ("appliance/store/db.py", "value"),
    ("appliance/store/bulk.py", "self.table"),  # checked against the module's own names
    ("appliance/store/migrations/__init__.py", "timestamp"),  # each engine's DATETIME type
    ("appliance/store/customer_data.py", "table"),  # ERASURE_REWRITES, the module's own
}
SQL_BY_NAME = {  # statements passed as a variable: built in the code from literals
    ("appliance/store/db.py", "statement"),  # `execute` itself
    ("appliance/store/db.py", "sql(statement)"),  # the same, with the engine's placeholders
    ("appliance/store/db.py", "_for_postgres(statement)"),
    ("appliance/store/baseline.py", "statement"),  # GUARDS, the module's own constants
    ("appliance/store/customer_data.py", "statement"),  # from the registry, a constant
    ("appliance/store/bulk.py", "statement"),  # `_many`: each caller passes a literal
    ("appliance/store/automation.py", "_LOG"),  # the module's own constants
    ("appliance/store/automation.py", "_STAMPS"),
    *{("appliance/store/broadcast.py", name)
      for name in ("_INSERT", "_DUE", "_SENT", "_AGAIN", "_FAILED", "_SKIPPED", "_STATUS")},
}
MIGRATIONS = "appliance/store/migrations/"  # each applies its own constant STATEMENTS


def test_sql_text_is_built_only_from_the_codes_own_constants():
    found = []
    for where, call, name in calls():
        if name.rsplit(".", 1)[-1] not in {"execute", "executemany", "execute_sql",
                                           "executescript"}:
            continue
        at = 1 if name == "execute" else 0  # store.db's `execute(database, statement)`
        if len(call.args) <= at:
            continue  # a peewee query's own execute()
        text = call.args[at]
        if at == 0 and isinstance(text, ast.Name) and text.id in {"db", "database"}:
            continue  # peewee's query.execute(database)
        if isinstance(text, ast.Constant) and isinstance(text.value, str):
            continue
        if isinstance(text, ast.JoinedStr):
            found += [f"{where}:{call.lineno} {{{piece}}}" for v in text.values
                      if isinstance(v, ast.FormattedValue)
                      and (where, piece := ast.unparse(v.value)) not in SQL_PIECES]
        elif not ((where, ast.unparse(text)) in SQL_BY_NAME
                  or (where.startswith(MIGRATIONS) and ast.unparse(text) == "statement")):
            found.append(f"{where}:{call.lineno} {ast.unparse(text)[:60]}")
    assert found == [], "values go into SQL as ? parameters, never into its text"


_SQL_TEXT = re.compile(r"^\s*(SELECT |INSERT INTO |UPDATE \w+ SET |DELETE FROM |PRAGMA |BEGIN\b)")
_RAW_CALLS = {"execute_sql", "executemany", "executescript", "cursor"}


def test_only_the_store_speaks_sqlite():
    # Given every call outside appliance/store/ (its migrations included)
    found = []
    for where, call, name in calls():
        if where.startswith("appliance/store/"):
            continue
        # When it hands SQL text to anything, or reaches past peewee to the connection
        texts = [a.value for a in call.args if isinstance(a, ast.Constant)
                 and isinstance(a.value, str)]
        texts += [a.values[0].value for a in call.args if isinstance(a, ast.JoinedStr)
                  and a.values and isinstance(a.values[0], ast.Constant)]
        if any(_SQL_TEXT.match(str(t)) for t in texts) or (
                name.rsplit(".", 1)[-1] in _RAW_CALLS and "." in name
                and not name.startswith("self.")):
            found.append(f"{where}:{call.lineno} {name}")
    # Then there is none: services call named store functions (store.bulk, ...)
    assert found == [], "move SQL behind a named function in appliance/store/"


# Where TLS certificates are deliberately not checked, and why.
UNVERIFIED = {
    "appliance/doctor_box.py",  # reads the dates of the certificate nginx serves, sends nothing
    "appliance/supervisor/run.py",  # asks its own child on 127.0.0.1 whether it is up
}


def test_tls_certificates_are_checked_everywhere_else():
    found = []
    for where, call, name in calls():
        off = (name.endswith("_create_unverified_context")
               or any(k.arg == "verify" and isinstance(k.value, ast.Constant)
                      and k.value.value is False for k in call.keywords))
        if off and where not in UNVERIFIED:
            found.append(f"{where}:{call.lineno} {name}")
    for where, node in nodes():
        if isinstance(node, ast.Attribute) and node.attr == "CERT_NONE" \
                and where not in UNVERIFIED:
            found.append(f"{where}:{node.lineno} ssl.CERT_NONE")
    assert found == [], "a TLS client checks the certificate of the server it talks to"


def test_redirects_are_never_followed_by_the_backend():
    found = [f"{where}:{call.lineno} {name}" for where, call, name in calls()
             if any(k.arg == "follow_redirects" and not (isinstance(k.value, ast.Constant)
                                                         and k.value.value is False)
                    for k in call.keywords)]
    assert found == [], "a redirect could carry the Graph token elsewhere: never follow one"


def test_the_only_cipher_is_aes_gcm_and_the_only_hash_is_sha_2():
    ciphers = [f"{where}:{node.lineno} {n}" for where, node in nodes() for n in imported(node)
               if n.startswith("cryptography.hazmat.primitives.ciphers")
               and n != "cryptography.hazmat.primitives.ciphers.aead.AESGCM"
               and n != "cryptography.hazmat.primitives.ciphers.aead"]
    assert ciphers == [], "seal with AESGCM (appliance/crypto/aead.py), nothing else"
    hashes = {(where, node.attr) for where, node in nodes()
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "hashlib"}
    weak = sorted(h for h in hashes if h[1] not in {"sha256", "sha384", "sha512"})
    assert weak == [], "SHA-256 or longer for every hash and HMAC"


def test_secrets_come_from_the_operating_systems_generator():
    # `random` is for the back-off jitter of retried calls (Gembok's Graph client, the
    # simulator's webhook retries), nothing that must not be guessed: tokens, keys, codes
    # and passwords use `secrets` or os.urandom.
    jitter = {"appliance/whatsapp/client.py", "simulator/app.py",
              "simulator/webhooks.py", "simulator/graph.py"}
    users = {where for where, node in nodes()
             if {n.split(".")[0] for n in imported(node)} & {"random"}}
    assert users <= jitter, sorted(users - jitter)
    for name in ("auth", "crypto", "privacy", "keys"):
        for path in (ROOT / "appliance" / name).rglob("*.py"):
            assert not re.search(r"\brandom\.", path.read_text()), rel(path)


def test_templates_are_files_never_strings():
    found = [f"{where}:{call.lineno} {name}" for where, call, name in calls()
             if name.rsplit(".", 1)[-1] in {"render_template_string", "from_string", "Template"}]
    assert found == [], "pages come from webui/templates, never from text built at run time"


def test_no_xml_is_parsed():
    found = [f"{where}:{node.lineno} {n}" for where, node in nodes() for n in imported(node)
             if n.split(".")[0] in {"xml", "lxml", "defusedxml", "xmltodict"}]
    assert found == [], "Gembok reads JSON only: an XML parser would need XXE defences"


def test_no_attachment_type_can_carry_script():
    from appliance.inbox.outbound import OUT_TYPES
    from appliance.whatsapp.media import ALLOWED_TYPES

    for allowed in (set(OUT_TYPES), set(ALLOWED_TYPES)):
        scriptable = {t for t in allowed if re.search(r"svg|html|javascript|ecmascript|"
                                                     r"\+xml$|/xml$|xhtml", t)}
        assert scriptable == set(), scriptable


def test_the_browser_keeps_only_the_alerts_switch():
    """Nothing about a customer or a session in localStorage, sessionStorage or cookies."""
    found = []
    for script in SCRIPTS:
        for n, line in enumerate(script.read_text().splitlines(), 1):
            if re.search(r"sessionStorage|indexedDB|document\.cookie|openDatabase", line):
                found.append(f"{rel(script)}:{n}")
            if "localStorage" in line and not re.search(
                    r"localStorage\.(getItem|setItem|removeItem)\(KEY\b", line):
                found.append(f"{rel(script)}:{n}")
    assert found == []
    live = (ROOT / "webui/static/js/chatroom/live.js").read_text()
    assert re.search(r'const KEY = "[a-z.-]+";', live), "the one key is a constant"
    assert re.findall(r'setItem\(KEY, ("[a-z]+")\)', live) == ['"on"']


def test_the_scripts_listen_to_no_other_window():
    found = [rel(s) for s in SCRIPTS
             if re.search(r"""postMessage|addEventListener\(\s*["']message["']|onmessage\s*=""",
                          s.read_text())]
    assert found == [], "no cross-window messages: nothing to check the origin of"


def test_no_module_turns_on_flasks_debugger():
    found = [rel(p) for p in PYTHON
             if re.search(r"\bdebug\s*=\s*True|DEBUG\s*=\s*True|use_debugger", p.read_text())]
    assert found == []
