"""The master key file is created once, never overwritten, and refused when others can read it."""

from __future__ import annotations

import os

import pytest

from appliance.crypto.masterkey import MasterKeyError, create_master_key, load_master_key


def test_it_creates_an_owner_only_key_and_reads_it_back(tmp_path):
    path = tmp_path / "master.key"
    created = create_master_key(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_master_key(path).key == created.key


def test_it_never_overwrites_an_existing_key(tmp_path):
    path = tmp_path / "master.key"
    first = path.write_text("keep me\n")
    with pytest.raises(MasterKeyError, match="already exists"):
        create_master_key(path)
    assert path.read_text() == "keep me\n" and first


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_it_refuses_a_key_that_group_or_others_can_read(tmp_path, mode):
    path = tmp_path / "master.key"
    create_master_key(path)
    os.chmod(path, mode)
    with pytest.raises(MasterKeyError) as caught:
        load_master_key(path)
    assert f"permissions {mode:04o}" in str(caught.value)
    assert f"chmod 600 {path}" in str(caught.value)


def test_a_missing_key_says_to_restore_it_not_to_make_a_new_one(tmp_path):
    with pytest.raises(MasterKeyError, match="is missing: restore it"):
        load_master_key(tmp_path / "master.key")


def test_a_damaged_key_is_refused(tmp_path):
    path = tmp_path / "master.key"
    path.write_text("abc\n")
    path.chmod(0o600)
    with pytest.raises(MasterKeyError, match="damaged"):
        load_master_key(path)


def test_the_key_never_shows_in_its_repr(tmp_path):
    key = create_master_key(tmp_path / "master.key")
    assert key.key.hex() not in repr(key) and key.key_id in repr(key)
