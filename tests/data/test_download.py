"""The verified downloader against a local HTTP server: nothing touches the network."""

import hashlib

import pytest

from handgrad.data import ChecksumError, DownloadError
from handgrad.data import download as dl
from handgrad.data.download import download

from .server import closed_port_url, serve

PAYLOAD = bytes(range(256)) * 400          # 100 KiB, several read chunks
MD5 = hashlib.md5(PAYLOAD).hexdigest()


def _left(folder):
    return sorted(p.name for p in folder.iterdir())


def test_success_writes_verified_file(tmp_path):
    with serve({"/f.gz": ("ok", PAYLOAD)}) as (url, _):
        path = download([url + "/f.gz"], tmp_path / "sub" / "f.gz", MD5, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert _left(tmp_path / "sub") == ["f.gz"]


def test_progress_bar_does_not_break_download(tmp_path, capsys):
    with serve({"/f.gz": ("ok", PAYLOAD)}) as (url, _):
        download([url + "/f.gz"], tmp_path / "f.gz", MD5, progress=True)
    assert (tmp_path / "f.gz").read_bytes() == PAYLOAD


def test_checksum_mismatch_is_an_error_and_leaves_nothing(tmp_path):
    corrupt = PAYLOAD[:-1] + b"\x00"
    with serve({"/f.gz": ("ok", corrupt), "/g.gz": ("ok", PAYLOAD)}) as (url, server):
        with pytest.raises(ChecksumError, match=rf"f.gz downloaded from {url}/f.gz: checksum "
                                                rf"mismatch: md5 [0-9a-f]{{32}}, expected {MD5}"):
            download([url + "/f.gz", url + "/g.gz"], tmp_path / "f.gz", MD5, progress=False)
        assert server.hits == ["/f.gz"]              # bad data is not silently retried
    assert _left(tmp_path) == []


def test_interrupted_transfer_leaves_nothing(tmp_path):
    with serve({"/f.gz": ("drop", PAYLOAD)}) as (url, _):
        with pytest.raises(DownloadError, match=r"(?s)could not download f.gz; tried:\n"
                                                rf"  {url}/f.gz: .*(Incomplete|closed|\d+ of)"):
            download([url + "/f.gz"], tmp_path / "f.gz", MD5, progress=False)
    assert _left(tmp_path) == []


@pytest.mark.parametrize("failure", [("status", 403), ("status", 404), ("drop", PAYLOAD)],
                         ids=["forbidden", "missing", "dropped"])
def test_failed_mirror_then_next_works(tmp_path, failure):
    with serve({"/bad/f.gz": failure, "/good/f.gz": ("ok", PAYLOAD)}) as (url, server):
        download([url + "/bad/f.gz", url + "/good/f.gz"], tmp_path / "f.gz", MD5, progress=False)
        assert server.hits == ["/bad/f.gz", "/good/f.gz"]
    assert (tmp_path / "f.gz").read_bytes() == PAYLOAD
    assert _left(tmp_path) == ["f.gz"]


def test_offline_message_lists_mirrors_and_how_to_proceed(tmp_path):
    urls = [closed_port_url() + "/a/f.gz", closed_port_url() + "/b/f.gz"]
    with pytest.raises(DownloadError) as info:
        download(urls, tmp_path / "f.gz", MD5, progress=False, folder="mnist")
    message = str(info.value)
    for url in urls:
        assert url in message
    for hint in ("data_dir", "HANDGRAD_DATA", "<dir>/mnist/", 'load("shapes")'):
        assert hint in message
    assert _left(tmp_path) == []


def test_no_checksum_means_no_verification(tmp_path):
    with serve({"/f": ("ok", b"abc")}) as (url, _):
        download([url + "/f"], tmp_path / "f", None, progress=False)
    assert (tmp_path / "f").read_bytes() == b"abc"


def test_ctrl_c_mid_download_leaves_nothing(tmp_path, monkeypatch):
    def interrupted(url, tmp, progress, timeout, desc):
        tmp.write(PAYLOAD[:1000])
        raise KeyboardInterrupt
    monkeypatch.setattr(dl, "_fetch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        download(["http://127.0.0.1:9/f.gz"], tmp_path / "f.gz", MD5, progress=False)
    assert _left(tmp_path) == []
