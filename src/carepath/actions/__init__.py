"""The only writers. Each action runs in one transaction and returns what it changed."""

from carepath.actions.auth import LoginResult, do_login, do_logout
from carepath.actions.claims import Claims, ClaimsResult, do_identify_claims, do_track_claims
from carepath.actions.merges import do_merge_customers, do_unmerge_customers, do_update_customer
from carepath.actions.tenants import do_create_tenant
from carepath.actions.tokens import (
    CreatedToken,
    do_create_api_token,
    do_record_token_use,
    do_revoke_api_token,
)
from carepath.actions.users import UserChanges, do_create_user, do_update_user
from carepath.actions.webhooks import do_create_webhook, do_delete_webhook, do_retry_outbox_item

__all__ = [
    "Claims",
    "ClaimsResult",
    "CreatedToken",
    "LoginResult",
    "UserChanges",
    "do_create_api_token",
    "do_create_tenant",
    "do_create_user",
    "do_create_webhook",
    "do_delete_webhook",
    "do_identify_claims",
    "do_login",
    "do_logout",
    "do_merge_customers",
    "do_record_token_use",
    "do_retry_outbox_item",
    "do_revoke_api_token",
    "do_track_claims",
    "do_unmerge_customers",
    "do_update_customer",
    "do_update_user",
]
