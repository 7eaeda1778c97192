"""The book's directory: file names for templates, writing without following links, TOML errors."""

from __future__ import annotations

import os

import pytest

from partnerctl.errors import Conflict, InvalidInput
from partnerctl.services.book.files import SAFE_STEM, Writer, parse_toml, scan, template_file_names


def test_template_file_names_are_safe_and_distinct():
    names = [
        "Small business",
        "small-business",
        "../../etc/passwd",
        "Ålborg ØST",
        "???",
        ".hidden",
        "A" * 100,
    ]
    files = template_file_names(names)
    assert len(set(files.values())) == len(names)
    assert (
        files["Small business"] == "small-business.toml"
        and files["small-business"] == "small-business-2.toml"
    )
    assert files["../../etc/passwd"] == "etc-passwd.toml" and files["Ålborg ØST"] == "alborg-ost.toml"
    assert all(SAFE_STEM.fullmatch(f.removesuffix(".toml")) for f in files.values())


def test_the_writer_refuses_links_and_non_empty_directories(tmp_path):
    book = tmp_path / "book"
    writer = Writer(book, force=False)
    writer.folder("clients")
    writer.write("clients", "BAK.toml", b'name = "x"\n')
    assert oct((book / "clients" / "BAK.toml").stat().st_mode & 0o777) == "0o600"
    with pytest.raises(InvalidInput, match="cannot be a file name"):
        writer.write("clients", "../x.toml", b"")
    with pytest.raises(Conflict, match="not empty"):
        Writer(book, force=False)
    target = tmp_path / "target"
    target.write_text("keep")
    os.symlink(target, book / "users.toml")
    with pytest.raises(InvalidInput, match="symbolic link"):
        Writer(book, force=True).write(None, "users.toml", b"x")
    assert target.read_text() == "keep"


def test_toml_errors_name_the_path_and_line(tmp_path):
    with pytest.raises(InvalidInput, match=r"^b/c.toml:2: not valid TOML"):
        parse_toml(b"a = 1\nb = = 2\n", "b/c.toml")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        parse_toml(b"a = '\xff'", "b/c.toml")
    with pytest.raises(InvalidInput, match="no book directory"):
        scan(tmp_path / "nope")
