"""Personal data: what carepath holds about one person, as one JSON document (the right of
access), and the rules of erasure. The writes are in `actions/personal_data.py`."""

from carepath.privacy.export import EXPORT_FORMAT, build_export, customer_file, message_files

__all__ = ["EXPORT_FORMAT", "build_export", "customer_file", "message_files"]
