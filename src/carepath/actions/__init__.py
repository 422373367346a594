"""The only writers. Each action runs in one transaction and returns what it changed."""

from carepath.actions.auth import LoginResult, do_login, do_logout
from carepath.actions.tenants import do_create_tenant
from carepath.actions.tokens import (
    CreatedToken,
    do_create_api_token,
    do_record_token_use,
    do_revoke_api_token,
)
from carepath.actions.users import UserChanges, do_create_user, do_update_user

__all__ = [
    "CreatedToken",
    "LoginResult",
    "UserChanges",
    "do_create_api_token",
    "do_create_tenant",
    "do_create_user",
    "do_login",
    "do_logout",
    "do_record_token_use",
    "do_revoke_api_token",
    "do_update_user",
]
