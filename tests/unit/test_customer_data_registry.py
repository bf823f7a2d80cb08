"""Every sealed column is either a customer's (rotated, merged, erased, exported) or the system's.

Data-key rotation, the merge of two customer records, erasure and the data-subject
export walk `store.customer_data`'s registry: a sealed column missing from it would keep
its customer's data under an old key, under the merged-away record's key, or out of
the export. So a new `*_sealed` column must be added to the registry, or listed as
sealed under the system key with the reason.
"""

from __future__ import annotations

from peewee import BlobField

from appliance.keys import data_rotation
from appliance.store.customer_data import CUSTOMER_RECORD, CUSTOMER_SEALED, OWNED, SYSTEM_SEALED
from appliance.store.schema import ALL_MODELS


def sealed_columns_of_the_schema() -> set[tuple[str, str]]:
    return {(model._meta.table_name, f.column_name)
            for model in ALL_MODELS for f in model._meta.sorted_fields
            if f.column_name.endswith("_sealed")}


def test_every_sealed_column_of_the_schema_is_in_the_customer_registry_or_under_the_system_key():
    # Given every column of the schema named *_sealed
    schema = sealed_columns_of_the_schema()
    # When we take those the registry says a customer owns, and those under the system key
    customers = {(e.table, c) for e in CUSTOMER_SEALED for c in e.columns}
    # Then none is left out
    forgotten = schema - customers - set(SYSTEM_SEALED)
    assert forgotten == set(), (
        "add these sealed columns to appliance/store/customer_data.py: to OWNED if a "
        "customer's key seals them (with the way to the customer), else to SYSTEM_SEALED")


def test_the_registry_names_only_sealed_blob_columns_that_exist():
    fields = {(m._meta.table_name, f.column_name): f
              for m in ALL_MODELS for f in m._meta.sorted_fields}
    named = {(e.table, c) for e in CUSTOMER_SEALED for c in e.columns} | set(SYSTEM_SEALED)
    assert sorted(n for n in named if not isinstance(fields.get(n), BlobField)) == []


def test_the_customer_record_comes_first_and_each_table_once():
    assert CUSTOMER_SEALED[0] is CUSTOMER_RECORD
    assert CUSTOMER_RECORD not in OWNED
    tables = [e.table for e in CUSTOMER_SEALED]
    assert len(tables) == len(set(tables))


def test_data_key_rotation_walks_every_table_of_the_registry_in_its_stored_order():
    # The job's step is stored by table name: these names and their order are kept.
    assert data_rotation.STEPS == ("new_keys", "customer", "message", "note", "media",
                                   "reveal", "customer_change", "campaign_recipient", "legal_hold",
                                   "retire")
