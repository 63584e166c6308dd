"""Files read on a user's behalf: regular files only, with a size cap; FIFOs and devices never block."""

import os

import pytest

from mlrun.inputs import MAX_BYTES, InputFileError, read_regular, read_regular_text, size_text


def test_a_regular_file_is_read(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: a\n")
    assert read_regular(path, "spec") == b"\xef\xbb\xbfname: a\n"
    assert read_regular_text(path, "spec") == "name: a\n"


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="not a regular file"):
        read_regular(fifo, "spec")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_devices_directly_or_through_a_symlink_are_refused(tmp_path, device):
    link = tmp_path / "data.csv"
    link.symlink_to(device)
    for path in (device, link):
        with pytest.raises(InputFileError, match="not a regular file"):
            read_regular(path, "csv")


def test_missing_directory_and_too_large(tmp_path, monkeypatch):
    with pytest.raises(InputFileError, match="no such file"):
        read_regular(tmp_path / "nope.yaml", "spec")
    with pytest.raises(InputFileError, match="is a directory"):
        read_regular(tmp_path, "spec")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * 2048)
    monkeypatch.setitem(MAX_BYTES, "spec", 1024)
    with pytest.raises(InputFileError, match=r"is 2 KiB; a spec file is at most 1 KiB"):
        read_regular(big, "spec")


def test_not_utf8(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(InputFileError, match="not UTF-8"):
        read_regular_text(path, "spec")


def test_size_text():
    assert size_text(512) == "512 bytes" and size_text(1536) == "1.5 KiB" and size_text(3 << 30) == "3 GiB"
