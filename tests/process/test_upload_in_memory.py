"""An agent's attachment, sent to `gembok run` as a browser sends it, never lands on disk in
clear: the web worker keeps it in memory until it is sealed.

The finding came from the real process model (issue 11, item 8): werkzeug, in the forked
gunicorn worker, spooled every file part over 500 KB to a deleted temporary file under
$TMPDIR, in clear, for as long as the upload took. Here the web worker gets a $TMPDIR of
its own, and a slow upload gives time to look at what the worker holds open meanwhile.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.process.conftest import Office

OFFICE_ENV: dict[str, str] = {}  # TMPDIR, a fresh directory, is added by `scratch` below
PICTURE = b"\xff\xd8\xff\xe0" + b"KTP-CANARY-" * (2 * 2**20 // 11)  # about 2 MB
CHUNK = 64 * 1024


@pytest.fixture(scope="module", autouse=True)
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The appliance's $TMPDIR: set before the module's office starts (autouse runs first)."""
    path = tmp_path_factory.mktemp("tmpdir")
    OFFICE_ENV["TMPDIR"] = str(path)
    return path


def open_under(pids: list[int], folder: Path) -> set[str]:
    """What these processes hold open under `folder` (a deleted file shows as such)."""
    found = set()
    for pid in pids:
        fds = Path(f"/proc/{pid}/fd")
        for fd in os.listdir(fds):
            try:
                target = os.readlink(fds / fd)
            except FileNotFoundError:  # closed meanwhile
                continue
            if target.startswith(str(folder)):
                found.add(target)
    return found


def test_a_2_mb_picture_sent_slowly_never_becomes_a_file_under_tmpdir(office: Office,
                                                                     scratch: Path) -> None:
    # Given Dedi of Sales, a customer who wrote in, and the web worker's $TMPDIR as it is
    office.division("Sales")
    dedi = office.staff("dedi", "Sales")
    convo = office.customer_writes("6281377005555", "Rina", "Halo, ini foto KTP saya")
    workers = [p.pid for p in office.web_workers()]
    assert workers, "no web worker"
    held_before, listed_before = open_under(workers, scratch), set(os.listdir(scratch))

    # When Dedi sends a 2 MB photo of her ID card over a slow line (64 KB every 50 ms)
    boundary, body = encode_multipart({
        "file": FileStorage(_bytes(PICTURE), filename="ktp.jpg", content_type="image/jpeg"),
        "caption": "foto KTP"})
    seen: list[str] = []

    def slowly() -> Iterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start:start + CHUNK]
            time.sleep(0.05)  # meanwhile, look at what the web worker holds open
            seen.extend(open_under(workers, scratch) - held_before)
            seen.extend(set(os.listdir(scratch)) - listed_before)

    resp = dedi.http.post(f"/api/conversations/{convo}/attachment", content=slowly(),
                          headers={"X-CSRFToken": dedi.token,
                                   "Content-Type": f"multipart/form-data; boundary={boundary}",
                                   "Content-Length": str(len(body))})

    # Then the picture is queued, and at no moment was any of it a file under $TMPDIR
    assert resp.status_code == 202, resp.text
    assert seen == [], f"the upload went to disk: {sorted(set(seen))}"
    assert set(os.listdir(scratch)) == listed_before
    assert open_under(workers, scratch) == held_before
    kinds = [m["kind"] for m in dedi.get(f"/api/conversations/{convo}").json()["messages"]]
    assert kinds[-1] == "image"


def _bytes(content: bytes):
    from io import BytesIO

    return BytesIO(content)
