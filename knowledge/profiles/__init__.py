"""The customer profile store: CRM records, touchpoints, consent, identities, conversations."""

from knowledge.profiles.records import ProfileRecord, RecordFailure, RecordTombstone, Ref, record_id
from knowledge.profiles.store import ProfileStore, RecordError, RecordWriteStats

__all__ = [
    "ProfileRecord",
    "ProfileStore",
    "RecordError",
    "RecordFailure",
    "RecordTombstone",
    "RecordWriteStats",
    "Ref",
    "record_id",
]
