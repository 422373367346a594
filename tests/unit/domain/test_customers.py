"""Customers: traits applied whole or not at all, and merges that can be undone exactly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carepath.domain import (
    Customer,
    Identity,
    IdentityKind,
    merge_customers,
    unmerge_customers,
)
from carepath.errors import Conflict, IllegalTransition, InvalidInput
from carepath.ids import TenantId
from tests.unit.domain.factories import T0, TENANT

LATER = T0 + timedelta(hours=1)


def test_name_and_segment_are_fields_and_the_rest_are_traits() -> None:
    customer = Customer.create(
        TENANT, traits={"name": " Ada   Lovelace ", "segment": "Premium", "plan": "gold"}, now=T0
    )

    assert customer.id.startswith("cus_")
    assert customer.name == "Ada Lovelace"
    assert customer.segment == "premium"
    assert customer.traits == {"plan": "gold"}


def test_none_removes_a_trait() -> None:
    customer = Customer.create(TENANT, traits={"plan": "gold", "segment": "smb"}, now=T0)

    customer.apply_traits({"plan": None, "segment": None}, LATER)

    assert customer.traits == {}
    assert customer.segment is None
    assert customer.updated_at == LATER


def test_traits_are_masked() -> None:
    customer = Customer.create(TENANT, traits={"note": "card 4111111111111111"}, now=T0)

    assert customer.traits == {"note": "card ************1111"}


def test_a_bad_trait_changes_nothing() -> None:
    # given a customer with a name
    customer = Customer.create(TENANT, traits={"name": "Ada"}, now=T0)
    # when a change mixes a good name with a bad trait key
    with pytest.raises(InvalidInput):
        customer.apply_traits({"name": "Grace", "bad key!": 1}, LATER)
    # then nothing was applied
    assert customer.name == "Ada"
    assert customer.updated_at == T0


@pytest.mark.parametrize(
    "traits",
    [{"segment": "gold & platinum"}, {"name": ""}, {"name": 42}, {"blob": "x" * 20_000}],
    ids=["segment", "empty-name", "name-not-text", "too-big"],
)
def test_invalid_traits_are_refused(traits: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        Customer.create(TENANT, traits=traits)


def test_a_merge_moves_identities_and_can_be_undone() -> None:
    # given two records of the same person, each with an identity
    survivor = Customer.create(TENANT, now=T0)
    duplicate = Customer.create(TENANT, now=T0)
    phone = Identity.create(TENANT, survivor.id, IdentityKind.PHONE, "+16505551234")
    email = Identity.create(TENANT, duplicate.id, IdentityKind.EMAIL, "ada@example.com")
    # when the duplicate is merged into the survivor
    merge = merge_customers(survivor, duplicate, [email], actor="usr_agent", now=LATER)
    # then its identity moved and it points at the survivor
    # (compared as tuples: mypy would otherwise keep the narrowed type after the undo)
    assert (email.customer_id, duplicate.merged_into) == (survivor.id, survivor.id)
    assert merge.moved_identity_ids == [email.id]
    assert merge.id.startswith("mrg_")
    # when the survivor gains an identity afterwards and the merge is undone
    whatsapp = Identity.create(TENANT, survivor.id, IdentityKind.WHATSAPP, "16505550000")
    returned = unmerge_customers(
        merge, duplicate, [phone, email, whatsapp], actor="usr_supervisor", now=LATER
    )
    # then exactly the moved identity went back
    assert returned == [email]
    assert (email.customer_id, phone.customer_id, whatsapp.customer_id) == (
        duplicate.id,
        survivor.id,
        survivor.id,
    )
    assert duplicate.merged_into is None
    assert merge.is_undone
    assert merge.undone_by == "usr_supervisor"
    # and it cannot be undone twice
    with pytest.raises(IllegalTransition):
        unmerge_customers(merge, duplicate, [email], actor="usr_supervisor", now=LATER)


def test_merges_never_chain() -> None:
    first = Customer.create(TENANT, now=T0)
    second = Customer.create(TENANT, now=T0)
    third = Customer.create(TENANT, now=T0)
    merge_customers(first, second, [], actor="usr_agent", now=LATER)

    with pytest.raises(Conflict):
        merge_customers(second, third, [], actor="usr_agent", now=LATER)
    with pytest.raises(Conflict):
        merge_customers(third, second, [], actor="usr_agent", now=LATER)


def test_a_customer_cannot_merge_into_itself_or_another_tenant() -> None:
    customer = Customer.create(TENANT, now=T0)
    stranger = Customer.create(TenantId("ten_other"), now=T0)

    with pytest.raises(Conflict):
        merge_customers(customer, customer, [], actor="usr_agent", now=LATER)
    with pytest.raises(InvalidInput):
        merge_customers(stranger, customer, [], actor="usr_agent", now=LATER)


def test_only_the_merged_customers_identities_can_move() -> None:
    survivor = Customer.create(TENANT, now=T0)
    duplicate = Customer.create(TENANT, now=T0)
    foreign = Identity.create(TENANT, survivor.id, IdentityKind.EMAIL, "x@example.com")

    with pytest.raises(InvalidInput):
        merge_customers(survivor, duplicate, [foreign], actor="usr_agent", now=LATER)
    assert duplicate.merged_into is None
