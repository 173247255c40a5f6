"""fetch() against a local HTTP server on 127.0.0.1 only: never the internet."""

from __future__ import annotations

import hashlib
import random
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cspanalysis.data.fetch import fetch, policeuk_archive_url
from cspanalysis.errors import InputError, OfflineError

CONTENT = random.Random(20190101).randbytes(300_000)
SHA = hashlib.sha256(CONTENT).hexdigest()


@dataclass
class Server:
    """What the local server sends, and the headers of every request it received."""

    content: bytes = CONTENT
    honour_range: bool = True
    cut_after: int | None = None  # first answer: send only this many bytes, then hang up
    status: int | None = None  # answer every request with this error status
    disposition: str | None = None
    requests: list[dict[str, str]] = field(default_factory=list)
    base: str = ""

    def url(self, path: str = "/files/archive.zip") -> str:
        return self.base + path


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def do_GET(self) -> None:
            state.requests.append(dict(self.headers))
            if state.status:
                self.send_error(state.status)
                return
            body, total = state.content, len(state.content)
            start = 0
            wanted = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            if wanted and state.honour_range:
                start = int(wanted[1])
                if start >= total:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{total}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{total - 1}/{total}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(total - start))
            if state.disposition:
                self.send_header("Content-Disposition", state.disposition)
            self.end_headers()
            payload = body[start:]
            if state.cut_after is not None and len(state.requests) == 1:
                self.wfile.write(payload[: state.cut_after])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)  # hang up mid-body
                self.close_connection = True
                return
            self.wfile.write(payload)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_full_download_is_verified_and_renamed_into_place(server, tmp_path):
    out = fetch(server.url(), tmp_path / "a.zip", sha256=SHA.upper(), progress=False)
    assert out == tmp_path / "a.zip"
    assert out.read_bytes() == CONTENT
    assert leftovers(tmp_path) == ["a.zip"]
    assert "Range" not in server.requests[0]
    assert server.requests[0]["User-Agent"].startswith("cspanalysis/")


def test_a_folder_destination_takes_the_name_from_the_url(server, tmp_path):
    out = fetch(server.url("/data/2019-01.zip"), tmp_path, progress=False)
    assert out == tmp_path / "2019-01.zip" and out.read_bytes() == CONTENT
    new_folder = tmp_path / "downloads"
    out = fetch(server.url("/data/2019-01.zip"), f"{new_folder}/", progress=False)
    assert out == new_folder / "2019-01.zip"


def test_without_a_name_in_the_url_the_server_names_the_file_safely(server, tmp_path):
    server.disposition = 'attachment; filename="../../escape/2019-02.zip"'
    out = fetch(server.url("/download?id=3"), tmp_path, progress=False)
    assert out == tmp_path / "2019-02.zip"
    assert out.read_bytes() == CONTENT
    server.disposition = None
    with pytest.raises(InputError, match="give dest as a file path"):
        fetch(server.url("/download?id=4"), tmp_path, progress=False)


def test_checksum_mismatch_keeps_nothing(server, tmp_path):
    wrong = "0" * 64
    with pytest.raises(InputError) as info:
        fetch(server.url(), tmp_path / "a.zip", sha256=wrong, progress=False)
    message = str(info.value)
    assert wrong in message and SHA in message and "expected" in message
    assert leftovers(tmp_path) == []


def test_an_interrupted_download_resumes_with_a_range_request(server, tmp_path):
    server.cut_after = 100_000
    dest = tmp_path / "a.zip"
    with pytest.raises(OfflineError, match=r"stopped after 100,000 bytes.*run again to resume"):
        fetch(server.url(), dest, sha256=SHA, progress=False, retries=0)
    assert not dest.exists()
    assert (tmp_path / "a.zip.part").stat().st_size == 100_000
    out = fetch(server.url(), dest, sha256=SHA, progress=False)
    assert server.requests[1]["Range"] == "bytes=100000-"
    assert out.read_bytes() == CONTENT
    assert leftovers(tmp_path) == ["a.zip"]


def test_a_dropped_connection_is_resumed_within_one_call(server, tmp_path):
    server.cut_after = 123_457
    out = fetch(server.url(), tmp_path / "a.zip", sha256=SHA, progress=False)
    assert [r.get("Range") for r in server.requests] == [None, "bytes=123457-"]
    assert out.read_bytes() == CONTENT


def test_a_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.honour_range = False
    (tmp_path / "a.zip.part").write_bytes(b"stale bytes of some other file")
    out = fetch(server.url(), tmp_path / "a.zip", sha256=SHA, progress=False)
    assert server.requests[0]["Range"] == "bytes=30-"
    assert out.read_bytes() == CONTENT


def test_a_part_file_that_is_already_whole_is_finished_without_downloading(server, tmp_path):
    (tmp_path / "a.zip.part").write_bytes(CONTENT)
    out = fetch(server.url(), tmp_path / "a.zip", sha256=SHA, progress=False)
    assert out.read_bytes() == CONTENT and leftovers(tmp_path) == ["a.zip"]
    assert len(server.requests) == 1  # answered 416: nothing after the end


def test_resume_false_discards_the_part_file(server, tmp_path):
    (tmp_path / "a.zip.part").write_bytes(CONTENT[:1000])
    out = fetch(server.url(), tmp_path / "a.zip", resume=False, progress=False)
    assert "Range" not in server.requests[0] and out.read_bytes() == CONTENT


def test_a_complete_destination_is_not_downloaded_again(server, tmp_path):
    dest = fetch(server.url(), tmp_path / "a.zip", sha256=SHA, progress=False)
    assert fetch(server.url(), dest, sha256=SHA, progress=False) == dest
    assert fetch(server.url(), dest, progress=False) == dest
    assert len(server.requests) == 1
    folder_copy = fetch(server.url(), tmp_path, progress=False)  # named from the URL
    assert fetch(server.url(), tmp_path, progress=False) == folder_copy
    assert len(server.requests) == 2
    # a destination that does not match the checksum is replaced by a verified download
    dest.write_bytes(b"an older version")
    assert fetch(server.url(), dest, sha256=SHA, progress=False).read_bytes() == CONTENT


@pytest.mark.parametrize("status", [404, 500])
def test_http_errors_name_the_status(server, tmp_path, status):
    server.status = status
    with pytest.raises(InputError, match=f"HTTP {status}") as info:
        fetch(server.url(), tmp_path / "a.zip", progress=False)
    assert not isinstance(info.value, OfflineError)
    assert leftovers(tmp_path) == []


def test_connection_refused_is_offline(tmp_path):
    with socket.socket() as sock:  # a port nobody is listening on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/2019-01.zip"
    with pytest.raises(OfflineError) as info:
        fetch(url, tmp_path / "a.zip", progress=False, timeout=2)
    message = str(info.value)
    assert "could not reach 127.0.0.1" in message and "check the connection" in message
    assert f"download {url} by hand" in message
    assert leftovers(tmp_path) == []


def test_unknown_host_is_offline(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(OfflineError, match=r"could not reach data\.police\.uk \(host name not"):
        fetch(policeuk_archive_url("2019-01"), tmp_path, progress=False)


def test_no_progress_bar_when_stderr_is_not_a_terminal(server, tmp_path, capsys):
    fetch(server.url(), tmp_path / "a.zip", progress=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("url", "kwargs", "words"),
    [
        ("ftp://example.org/a.zip", {}, "not a web address"),
        ("http://127.0.0.1:9/a.zip", {"sha256": "abc"}, "not a SHA-256"),
    ],
)
def test_bad_arguments(tmp_path, url, kwargs, words):
    with pytest.raises(InputError, match=words):
        fetch(url, tmp_path, **kwargs)


def test_policeuk_archive_url():
    assert policeuk_archive_url("2019-01") == "https://data.police.uk/data/archive/2019-01.zip"
    assert policeuk_archive_url(" 2024-12 ").endswith("/2024-12.zip")
    for bad in ["2019-13", "2019-1", "201901", "January 2019", "2010-11"]:
        with pytest.raises(InputError):
            policeuk_archive_url(bad)
