"""The keyring opens only under its own master key and refuses to be altered."""

from __future__ import annotations

import json
import pickle

import pytest

from appliance.crypto.keyring import (
    KeyringError,
    WrongMasterKeyError,
    create_keyring,
    load_keyring,
)
from appliance.crypto.masterkey import create_master_key


@pytest.fixture
def master(tmp_path):
    return create_master_key(tmp_path / "master.key")


def test_it_holds_a_separate_key_per_purpose(tmp_path, master):
    ring = create_keyring(tmp_path / "keyring.json", master)
    keys = {ring.database_key, ring.index_key, ring.audit_key, ring.current("system")}
    assert len(keys) == 4
    again = load_keyring(tmp_path / "keyring.json", master)
    assert again.database_key == ring.database_key and again.audit_key == ring.audit_key


def test_another_master_key_is_refused_before_anything_opens(tmp_path, master):
    create_keyring(tmp_path / "keyring.json", master)
    other = create_master_key(tmp_path / "other.key")
    with pytest.raises(WrongMasterKeyError) as caught:
        load_keyring(tmp_path / "keyring.json", other)
    assert master.key_id in str(caught.value) and "nothing was changed" in str(caught.value)


def test_swapping_two_wrapped_keys_is_caught(tmp_path, master):
    path = tmp_path / "keyring.json"
    create_keyring(path, master)
    doc = json.loads(path.read_text())
    keys = doc["keys"]
    keys[0]["wrapped"], keys[2]["wrapped"] = keys[2]["wrapped"], keys[0]["wrapped"]
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongMasterKeyError, match="does not open"):
        load_keyring(path, master)


def test_it_is_never_overwritten(tmp_path, master):
    create_keyring(tmp_path / "keyring.json", master)
    with pytest.raises(KeyringError, match="never overwrites"):
        create_keyring(tmp_path / "keyring.json", master)


def test_a_missing_keyring_says_to_restore_it(tmp_path, master):
    with pytest.raises(KeyringError, match="missing: restore it"):
        load_keyring(tmp_path / "keyring.json", master)


def test_the_unwrapped_keys_are_never_pickled_or_printed(tmp_path, master):
    ring = create_keyring(tmp_path / "keyring.json", master)
    with pytest.raises(TypeError):
        pickle.dumps(ring)
    assert ring.database_key.hex() not in repr(ring)
